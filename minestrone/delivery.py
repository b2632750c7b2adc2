"""What the broker promises about a job, per kind, and the transport options that make it so.

Both kinds: a job is acknowledged after it ran (``acks_late``), so a worker that dies mid-job
leaves it to run again elsewhere; jobs must be idempotent. RabbitMQ: ``apply_async`` returns once
the broker confirmed the publish; a dead worker's connection closes and its unacknowledged job
is queued again at once. Redis: the publish is an ``LPUSH`` answered once the server applied it
(kept across a crash only as far as the server's ``appendfsync`` keeps it); a job taken by a
worker waits in the ``unacked`` hash until acknowledged. A pool process killed mid-job gives it
back at once (``reject_on_worker_lost``); a whole worker killed leaves it there until another
worker restores it, ``VISIBILITY_TIMEOUT_SECONDS`` after it was taken. A job running (or waiting
for its countdown) longer than that would be given to a second worker while the first still
holds it: the visibility timeout is kept above the longest job and countdown.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

VISIBILITY_TIMEOUT_SECONDS = 600
LONGEST_COUNTDOWN_SECONDS = 0  # the app schedules no job for later (no countdown, no ETA)
MARGIN_SECONDS = 60  # a busy worker's prefetched job waits this long at most before it starts
CONNECT_SECONDS = 3
REDIS_SCHEMES = ("redis", "rediss")
AMQP_SCHEMES = ("amqp", "amqps", "pyamqp")


def broker_kind(url: str) -> str:
    """``rabbitmq``, ``redis`` or the URL's scheme (``memory`` in the unit tests)."""
    scheme = url.split("://", 1)[0].lower()
    if scheme in AMQP_SCHEMES:
        return "rabbitmq"
    if scheme in REDIS_SCHEMES:
        return "redis"
    return scheme


def longest_wait(longest_job_seconds: float) -> float:
    """The longest a job may be held by a worker before it is acknowledged, in seconds."""
    return longest_job_seconds + LONGEST_COUNTDOWN_SECONDS + MARGIN_SECONDS


def transport_options(url: str, longest_job_seconds: float) -> dict:
    """Celery's ``broker_transport_options`` for the broker at ``url``."""
    kind = broker_kind(url)
    if kind == "rabbitmq":
        # Publisher confirms: apply_async returns only once RabbitMQ has taken the message.
        return {"confirm_publish": True}
    if kind != "redis":
        return {}
    if longest_wait(longest_job_seconds) >= VISIBILITY_TIMEOUT_SECONDS:
        raise ImproperlyConfigured(
            f"SOUP_LAZY_JOB_SECONDS={longest_job_seconds:g} is too long for a Redis broker: a "
            f"job held over {VISIBILITY_TIMEOUT_SECONDS} s (the visibility timeout, less "
            f"{MARGIN_SECONDS} s) would be given to a second worker; keep it under "
            f"{VISIBILITY_TIMEOUT_SECONDS - MARGIN_SECONDS - LONGEST_COUNTDOWN_SECONDS} s."
        )
    return {
        "visibility_timeout": VISIBILITY_TIMEOUT_SECONDS,
        "socket_connect_timeout": CONNECT_SECONDS,
        # broadcasts (remote control, events) on channels of their own, by key pattern
        "fanout_prefix": True,
        "fanout_patterns": True,
    }
