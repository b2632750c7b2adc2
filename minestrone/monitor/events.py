"""Celery events checked and turned into observations: sparse rows of what one event says."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo

from minestrone.delayed import sent_exchange, sent_routing_key
from minestrone.monitor import states
from minestrone.monitor.errors import MalformedEvent, UnknownEvent

# What each task event says about the task's state, and which time column it fills.
TASK_EVENTS = {
    "task-sent": (states.PENDING, "sent"),
    "task-received": (states.RECEIVED, "received"),
    "task-started": (states.STARTED, "started"),
    "task-succeeded": (states.SUCCESS, "finished"),
    "task-failed": (states.FAILURE, "finished"),
    "task-retried": (states.RETRY, None),
    "task-revoked": (states.REVOKED, "finished"),
    "task-rejected": (states.REJECTED, None),
}
WORKER_EVENTS = frozenset({"worker-online", "worker-heartbeat", "worker-offline"})
MAX_TASK_ID_LENGTH = 255
_LATEST_TIMESTAMP = 253402300799.0  # 9999-12-31 23:59:59 UTC


def check(event: object) -> str:
    """Return the event's type, or raise MalformedEvent/UnknownEvent saying what is wrong."""
    if type(event) is not dict and not isinstance(event, Mapping):  # a dict: no ABC check
        raise MalformedEvent(f"an event is a mapping, not a {type(event).__name__}")
    kind = event.get("type")
    if not isinstance(kind, str):
        raise MalformedEvent("the event has no type")
    if kind in TASK_EVENTS:
        task_id(event)
        if kind != "task-sent":
            hostname(event)
    elif kind in WORKER_EVENTS:
        hostname(event)
    else:
        raise UnknownEvent(f"events of type {kind!r} are not recorded")
    timestamp(event)
    return kind


def task_id(event: Mapping) -> str:
    """Return the event's task id (its `uuid`)."""
    value = event.get("uuid")
    if (
        not isinstance(value, str)
        or not value
        or len(value) > MAX_TASK_ID_LENGTH
        or "\x00" in value
    ):
        raise MalformedEvent(f"{event.get('type')} event without a valid uuid: {value!r:.80}")
    return value


def hostname(event: Mapping) -> str:
    """Return the hostname of the worker (or client) that sent the event."""
    value = event.get("hostname")
    if not isinstance(value, str) or not value:
        raise MalformedEvent(f"{event.get('type')} event without a hostname: {value!r:.80}")
    return value


def timestamp(event: Mapping) -> float:
    """Return the event's time in seconds since the epoch."""
    value = event.get("timestamp")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedEvent(f"{event.get('type')} event without a timestamp: {value!r:.80}")
    if not (math.isfinite(value) and 0 <= value <= _LATEST_TIMESTAMP):
        raise MalformedEvent(f"{event.get('type')} event with timestamp {value!r} out of range")
    return float(value)


def epoch_datetime(seconds: float) -> datetime:
    """Return an aware UTC datetime for seconds since the epoch."""
    return datetime.fromtimestamp(seconds, tz=UTC)


def as_text(value: object) -> str | None:
    """A field as text: strings as they are (without NUL, which PostgreSQL refuses), else repr."""
    if value is None:
        return None
    text = value if isinstance(value, str) else repr(value)
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


def _when(value: object, zone: tzinfo = UTC) -> datetime | None:
    """ETA and expiry arrive as ISO 8601 strings (or epoch seconds); naive ones are in `zone`,
    the Celery app's time zone, as the workers read them.

    None when unreadable, or when the time falls outside years 1 to 9999 in UTC.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return epoch_datetime(float(value))
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=zone)
        parsed.astimezone(UTC)  # the database stores UTC: it must fit years 1 to 9999 there
    except (ValueError, OverflowError):
        return None
    return parsed


def as_int(value: object, bits: int = 32) -> int | None:
    """A field as an integer that fits a signed column of `bits` bits, or None."""
    limit = 2 ** (bits - 1)
    if isinstance(value, int) and not isinstance(value, bool) and -limit <= value < limit:
        return value
    return None


def as_float(value: object) -> float | None:
    """A field as a finite float, or None."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _exchange(value: object) -> str | None:
    """The exchange the job was sent to (none for kombu's delay exchanges)."""
    text = as_text(value)
    return sent_exchange(text) if text else text


def _routing_key(value: object) -> str | None:
    """The routing key the job was sent with (without kombu's delay bits)."""
    text = as_text(value)
    return sent_routing_key(text) if text else text


# Event field -> (column, conversion).
_TASK_FIELDS = (
    ("name", "name", as_text),
    ("args", "args", as_text),
    ("kwargs", "kwargs", as_text),
    ("eta", "eta", _when),
    ("expires", "expires", _when),
    ("retries", "retries", as_int),
    ("exchange", "exchange", _exchange),
    ("routing_key", "routing_key", _routing_key),
    ("queue", "queue", as_text),
    ("result", "result", as_text),
    ("exception", "result", as_text),  # failed and retried events: the exception is the result
    ("traceback", "traceback", as_text),
    ("runtime", "runtime", as_float),
)


_SIGNAL_NAMES = {9: "SIGKILL", 15: "SIGTERM", 2: "SIGINT", 1: "SIGHUP", 3: "SIGQUIT"}
DETAIL_LENGTH = 500


def _signal_name(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return _SIGNAL_NAMES.get(value, f"signal {value}")
    text = str(value).upper()
    return text if text.startswith("SIG") else f"SIG{text}"


def revocation(event: Mapping) -> str:
    """How a task-revoked event says the task ended: revoked, terminated, killed or expired."""
    if event.get("expired"):
        return "expired"
    if event.get("terminated"):
        name = _signal_name(event.get("signum") or 15)
        verb = "killed" if name == "SIGKILL" else "terminated"
        return f"{verb} ({name})"
    return "revoked"


def _event_detail(event: Mapping) -> str | None:
    kind = event["type"]
    if kind == "task-sent":
        parts = [f"routing key {event.get('routing_key')}" if event.get("routing_key") else ""]
        if event.get("eta"):
            parts.append(f"ETA {event['eta']}")
    elif kind == "task-succeeded":
        runtime = as_float(event.get("runtime"))
        parts = [f"in {runtime:.3f} s" if runtime is not None else "", as_text(event.get("result"))]
    elif kind in ("task-failed", "task-retried"):
        parts = [as_text(event.get("exception"))]
    elif kind == "task-revoked":
        parts = [revocation(event)]
    elif kind == "task-rejected":
        parts = ["requeued" if event.get("requeue") else "not requeued"]
    else:
        parts = []
    text = "; ".join(part for part in parts if part)
    return text[:DETAIL_LENGTH] or None


def observe_event(event: Mapping) -> dict:
    """The timeline row of a checked task event: its kind, time, sender and a short detail."""
    return _timeline_row(event, task_id(event), epoch_datetime(timestamp(event)))


def _timeline_row(event: Mapping, key: str, when: datetime) -> dict:
    return {
        "task_id": key,
        "kind": event["type"].removeprefix("task-"),
        "timestamp": when,
        "hostname": as_text(event.get("hostname")),
        "detail": _event_detail(event),
    }


def observe_task(event: Mapping, zone: tzinfo = UTC) -> dict:
    """Return the observation a checked task event makes: only the columns it knows; naive
    times are in `zone`."""
    return _observation(event, task_id(event), timestamp(event), zone)


def observe(event: Mapping, zone: tzinfo = UTC) -> tuple[dict, dict]:
    """A checked task event's observation and timeline row (observe_task and observe_event
    at once, reading the event's id and time once)."""
    key, seconds = event["uuid"], float(event["timestamp"])  # check() vouched for both
    observation = _observation(event, key, seconds, zone)
    return observation, _timeline_row(event, key, observation["tstamp"])


def _observation(event: Mapping, key: str, seconds: float, zone: tzinfo) -> dict:
    kind = event["type"]
    state, time_column = TASK_EVENTS[kind]
    when = epoch_datetime(seconds)
    row = {
        "task_id": key,
        "state": state,
        "progress": states.progress(state, seconds),
        "tstamp": when,
    }
    if time_column:
        row[time_column] = when
    if kind != "task-sent":  # a task-sent event comes from the client, not from a worker
        row["worker"] = as_text(hostname(event))
    if kind == "task-revoked":
        row["revocation"] = revocation(event)
    for field, column, convert in _TASK_FIELDS:
        if field in event and column not in row:
            value = _when(event[field], zone) if convert is _when else convert(event[field])
            if value is not None:
                row[column] = value
    return row
