"""The soup app's exceptions, under SoupError."""

from minestrone.errors import MinestroneError


class SoupError(MinestroneError):
    """Something the soup app refuses or cannot do."""


class RoutingKeyError(SoupError, ValueError):
    """A routing-key name that cannot become an AMQP routing key."""
