"""Queue depths as the broker reports them, the broker's nodes, and where they were read."""

from __future__ import annotations

from dataclasses import dataclass

MANAGEMENT_API = "management API"
PASSIVE_DECLARE = "AMQP passive declare"
REDIS_KEYS = "Redis"


@dataclass(frozen=True)
class QueueDepth:
    """One queue as the broker sees it: messages ready for delivery, consumers attached (None on
    Redis, which keeps no count of them) and, from the management API or Redis only, messages
    delivered but not yet acknowledged; from the management API also where it lives: its leader
    node and, for a replicated (quorum) queue, its members and those of them online."""

    name: str
    ready: int | None
    consumers: int | None
    missing: bool = False  # the broker has no such queue
    unacked: int | None = None  # None: unknown (AMQP cannot tell)
    leader: str | None = None  # the node serving it (a classic queue's only node)
    members: tuple[str, ...] = ()  # a quorum queue's replicas, leader included
    online: tuple[str, ...] = ()  # the members that are up

    @property
    def idle(self) -> bool:
        """True when nothing waits and nobody consumes."""
        return not self.ready and not self.consumers

    @property
    def offline(self) -> tuple[str, ...]:
        """The members that are down."""
        return tuple(member for member in self.members if member not in self.online)


@dataclass(frozen=True)
class BrokerNode:
    """One node of the broker (a RabbitMQ cluster member) and whether it runs."""

    name: str
    running: bool


class QueueDepths(list):
    """QueueDepth items in name order, with where they were read and why not from the API, and
    the broker's nodes when the management API listed them."""

    def __init__(
        self,
        depths=(),
        source: str = PASSIVE_DECLARE,
        api_error: str | None = None,
        nodes: tuple[BrokerNode, ...] = (),
    ):
        super().__init__(depths)
        self.source = source
        self.api_error = api_error
        self.nodes = nodes
