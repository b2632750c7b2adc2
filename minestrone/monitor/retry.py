"""Send a failed, revoked or rejected task again: same name, arguments and routing key, a new
id; the two are linked both ways in their timelines ("retry of …", "retried as …"). A
dead-lettered job is sent again by dead_letters.py with the same links."""

from __future__ import annotations

import ast
from collections import defaultdict

from django.utils import timezone

from minestrone.monitor import sending, states
from minestrone.monitor.errors import RetryRefused
from minestrone.monitor.models import TaskEvent, TaskState

RETRYABLE = (states.FAILURE, states.REVOKED, states.REJECTED)
RETRY_OF = "retry of"
RETRIED_AS = "retried as"


def _literal(text: str | None, kind: type, what: str):
    """The arguments the camera recorded (Python reprs), read back as values."""
    if text in (None, ""):
        return kind()
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise RetryRefused(
            f"its {what} were recorded as {text[:80]!r}, which is not plain values (numbers, "
            "strings, lists, dicts…): send it again from code"
        ) from None
    if kind is list and isinstance(value, tuple | list):
        return list(value)
    if kind is dict and isinstance(value, dict):
        return value
    raise RetryRefused(f"its {what} were recorded as {text[:80]!r}, not a {kind.__name__}")


def retry(task: TaskState, who: str) -> str:
    """Send the task again; return the new id. RetryRefused says why it cannot be."""
    if task.state not in RETRYABLE:
        raise RetryRefused(
            f"task {task.task_id} is {task.state}: only {', '.join(RETRYABLE)} tasks are sent again"
        )
    check_registered(task.task_id, task.name)
    args = _literal(task.args, list, "arguments")
    kwargs = _literal(task.kwargs, dict, "keyword arguments")
    new_id = sending.send(task.name, args, kwargs, task.routing_key)
    link(task.task_id, new_id, who)
    return new_id


def check_registered(task_id: str | None, name: str | None) -> None:
    """RetryRefused unless ``name`` is a task the application registers."""
    if not name or not sending.registered(name):
        raise RetryRefused(f"task {task_id}: {name!r} is not a registered task")


def link(old_id: str, new_id: str, who: str) -> None:
    """Record in both timelines that ``new_id`` was sent again as a retry of ``old_id``."""
    now = timezone.now()
    TaskEvent.objects.record(
        [
            {"task_id": old_id, "kind": RETRIED_AS, "timestamp": now,
             "detail": f"{new_id} by {who}"},
            {"task_id": new_id, "kind": RETRY_OF, "timestamp": now,
             "detail": f"{old_id} by {who}"},
        ]
    )  # fmt: skip


def links(task_ids: list[str]) -> dict[str, dict]:
    """For each task: the task it retries (or None) and the tasks it was retried as."""
    found = defaultdict(lambda: {"retry_of": None, "retried_as": []})
    events = TaskEvent.objects.filter(task_id__in=task_ids, kind__in=(RETRY_OF, RETRIED_AS))
    for task_id, kind, detail in events.order_by("timestamp", "id").values_list(
        "task_id", "kind", "detail"
    ):
        other = (detail or "").split(" ", 1)[0]
        if kind == RETRY_OF:
            found[task_id]["retry_of"] = other
        else:
            found[task_id]["retried_as"].append(other)
    return {task_id: found[task_id] for task_id in task_ids}
