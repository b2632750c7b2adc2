"""Kombu's native delayed delivery, seen from the monitor: the names a countdown job travels
under, and the ones it was sent with."""

from __future__ import annotations

import re

# A job sent with a countdown (a retry's too) travels through Celery's delay exchanges with 28
# bits before its routing key; the key it was sent with follows them.
DELAY_PREFIX = re.compile(r"^(?:[01]\.){28}")
# The delay exchanges themselves (kombu: celery_delayed_<level>, optionally prefixed).
DELAY_EXCHANGE = re.compile(r"^(?:.+_)?celery_delayed_\d+$")


def sent_routing_key(key: str) -> str:
    """The routing key a job was sent with, without the delay bits."""
    return DELAY_PREFIX.sub("", key)


def sent_exchange(name: str) -> str | None:
    """The exchange a job was sent to; None for a delay exchange (which hides the real one)."""
    return None if DELAY_EXCHANGE.match(name) else name
