"""One dead-lettered job as the monitor shows it, read from the AMQP message RabbitMQ moved to
the dead-letter queue: Celery's headers (protocol 2), its JSON body and RabbitMQ's ``x-death``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from minestrone.delayed import sent_routing_key

DELIVERY_LIMIT_REASON = "delivery_limit"


@dataclass(frozen=True)
class DeadLetter:
    """A job in the dead-letter queue; ``args``/``kwargs`` are None when the body is not a
    Celery message that can be sent again."""

    task_id: str | None
    name: str | None
    args: list | None
    kwargs: dict | None
    args_text: str
    kwargs_text: str
    routing_key: str
    reason: str | None
    queue: str | None
    dead_lettered_at: datetime | None
    deliveries: int | None
    worker: str | None = field(default=None, compare=False)

    @property
    def can_retry(self) -> bool:
        """True when name and arguments were read, so the job can be sent again."""
        return bool(self.name) and self.args is not None and self.kwargs is not None


def _text(value, limit: int = 255) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value[:limit] if isinstance(value, str) and value else None


def _body(body, content_type: str | None) -> tuple[list | None, dict | None]:
    """Protocol 2's ``[args, kwargs, embed]`` from a JSON body, or (None, None)."""
    if content_type not in (None, "application/json"):
        return None, None
    try:
        decoded = json.loads(body.decode("utf-8") if isinstance(body, bytes) else body)
    except (TypeError, ValueError, UnicodeDecodeError):
        return None, None
    if (isinstance(decoded, list) and len(decoded) == 3 and isinstance(decoded[0], list)
            and isinstance(decoded[1], dict)):  # fmt: skip
        return decoded[0], decoded[1]
    return None, None


def _death(headers: dict) -> dict:
    deaths = headers.get("x-death")
    if isinstance(deaths, list) and deaths and isinstance(deaths[0], dict):
        return deaths[0]  # the newest first
    return {}


def _moment(value) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def parse(body, properties: dict, routing_key: str, delivery_limit: int) -> DeadLetter:
    """Read a dead-lettered message (py-amqp's body and properties) into a DeadLetter."""
    headers = properties.get("application_headers") or {}
    if not isinstance(headers, dict):
        headers = {}
    args, kwargs = _body(body, _text(properties.get("content_type")))
    death = _death(headers)
    keys = death.get("routing-keys")
    original_key = _text(keys[0]) if isinstance(keys, list) and keys else None
    reason = _text(death.get("reason"))
    # over the limit: delivered once, then again as many times as the limit allows (the
    # dead-letter queue's own x-delivery-count, grown by each look, is not the job's)
    deliveries = delivery_limit + 1 if reason == DELIVERY_LIMIT_REASON else None
    return DeadLetter(
        task_id=_text(headers.get("id")),
        name=_text(headers.get("task")),
        args=args,
        kwargs=kwargs,
        args_text=_text(headers.get("argsrepr"), 1000) or (repr(args) if args is not None else ""),
        kwargs_text=_text(headers.get("kwargsrepr"), 1000)
        or (repr(kwargs) if kwargs is not None else ""),
        routing_key=sent_routing_key(original_key or routing_key),
        reason=reason,
        queue=_text(death.get("queue")),
        dead_lettered_at=_moment(death.get("time")),
        deliveries=deliveries,
    )
