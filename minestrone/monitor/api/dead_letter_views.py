"""The API's dead-letter queue (RabbitMQ): list the jobs over the delivery limit, send one back
or discard it."""

from __future__ import annotations

from contextlib import contextmanager

from minestrone.errors import BrokerUnreachable
from minestrone.monitor import dead_letters
from minestrone.monitor.api import serialize
from minestrone.monitor.api.endpoint import endpoint
from minestrone.monitor.api.errors import ApiError, NotFound, Unavailable
from minestrone.monitor.errors import DeadLetterMissing, DeadLettersUnsupported, RetryRefused

VIEW_TASKS = "monitor.view_taskstate"
CHANGE_TASKS = "monitor.change_taskstate"
MAX_LIMIT = dead_letters.MAX_SHOWN


@contextmanager
def _answering(what: str):
    """The dead-letter errors as the API's: 404, 409 (Redis; not sendable), 503."""
    try:
        yield
    except DeadLetterMissing as exc:
        raise NotFound(str(exc)) from None
    except (DeadLettersUnsupported, RetryRefused) as exc:
        raise ApiError(f"{what}: {exc}", 409) from None
    except BrokerUnreachable as exc:
        raise Unavailable(f"{what}: the broker is unavailable ({exc})") from exc


@endpoint("GET", VIEW_TASKS, params=("limit",))
def listing(request, caller, params) -> dict:
    """The dead-lettered jobs, oldest first (up to limit), and how many there are."""
    limit = params.integer("limit", 100, 1, MAX_LIMIT)
    with _answering("not read"):
        letters, total = dead_letters.listing(limit)
    return {"total": total, "dead-letters": [serialize.dead_letter(one) for one in letters]}


@endpoint("POST", CHANGE_TASKS, acts=True)
def retry(request, caller, params, task_id: str) -> dict:
    """Send a dead-lettered job again (same task, arguments, routing key; a new id, linked)."""
    with _answering("not sent"):
        new_id = dead_letters.send_back(task_id, caller.who)
    return {"task-id": new_id, "state": "PENDING"}


@endpoint("POST", CHANGE_TASKS, acts=True)
def discard(request, caller, params, task_id: str) -> dict:
    """Remove a dead-lettered job for good."""
    with _answering("not discarded"):
        letter = dead_letters.discard(task_id)
    return {"discarded": serialize.dead_letter(letter)}
