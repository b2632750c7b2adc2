"""Countdowns and ETAs in whole seconds on quorum queues: Celery 5.7 sends them through
RabbitMQ's delay exchanges in steps of a second (kombu's ``calculate_routing_key``), which
refuses a delay under one second; such a delay is rounded up to one second instead."""

from __future__ import annotations

from datetime import datetime

SHORTEST_SECONDS = 1


def whole_seconds(countdown: float | None, eta, now: datetime) -> tuple[float | None, object]:
    """``(countdown, eta)`` as Celery may send them: a delay over 0 and under a second becomes
    a countdown of one second; anything else is left as it is."""
    if isinstance(eta, datetime):
        if eta.tzinfo is None:
            eta = eta.replace(tzinfo=now.tzinfo)
        remaining = (eta - now).total_seconds()
        if 0 < remaining < SHORTEST_SECONDS:
            return SHORTEST_SECONDS, None
        return countdown, eta
    if countdown is not None and 0 < countdown < SHORTEST_SECONDS:
        return SHORTEST_SECONDS, eta
    return countdown, eta
