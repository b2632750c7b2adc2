"""Routing keys of the jobs: `tasks.<name>`, matched by the `default` queue's `tasks.#` binding."""

import re

from minestrone.soup.errors import RoutingKeyError

ROUTING_KEY_PREFIX = "tasks."
MAX_ROUTING_KEY_BYTES = 255  # AMQP 0-9-1 short string
_WORD = r"[A-Za-z0-9_-]+"
_WORDS = re.compile(rf"{_WORD}(?:\.{_WORD})*")


def routing_key_for(name: str) -> str:
    """Return `tasks.<name>`, or raise RoutingKeyError saying what is wrong with the name."""
    if not name:
        raise RoutingKeyError('Give a routing key name, such as "urgent" or "reports.daily".')
    if not _WORDS.fullmatch(name):
        raise RoutingKeyError(
            'A routing key name is words of letters, digits, "_" and "-", separated by single '
            'dots (no spaces, no "*" or "#", no empty words), such as "reports.daily".'
        )
    key = ROUTING_KEY_PREFIX + name
    size = len(key.encode("utf-8"))
    if size > MAX_ROUTING_KEY_BYTES:
        raise RoutingKeyError(
            f"The routing key would be {size} bytes long; AMQP allows at most "
            f"{MAX_ROUTING_KEY_BYTES}: shorten the name by {size - MAX_ROUTING_KEY_BYTES}."
        )
    return key
