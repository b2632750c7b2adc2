"""Queue depths as the broker reports them, and where they were read."""

from __future__ import annotations

from dataclasses import dataclass

MANAGEMENT_API = "management API"
PASSIVE_DECLARE = "AMQP passive declare"
REDIS_KEYS = "Redis"


@dataclass(frozen=True)
class QueueDepth:
    """One queue as the broker sees it: messages ready for delivery, consumers attached (None on
    Redis, which keeps no count of them) and, from the management API or Redis only, messages
    delivered but not yet acknowledged."""

    name: str
    ready: int | None
    consumers: int | None
    missing: bool = False  # the broker has no such queue
    unacked: int | None = None  # None: unknown (AMQP cannot tell)

    @property
    def idle(self) -> bool:
        """True when nothing waits and nobody consumes."""
        return not self.ready and not self.consumers


class QueueDepths(list):
    """QueueDepth items in name order, with where they were read and why not from the API."""

    def __init__(self, depths=(), source: str = PASSIVE_DECLARE, api_error: str | None = None):
        super().__init__(depths)
        self.source = source
        self.api_error = api_error
