"""The API's reads, all from the database: every instance of the site answers the same."""

from __future__ import annotations

from minestrone.monitor import retry, states
from minestrone.monitor.api import serialize
from minestrone.monitor.api.endpoint import endpoint
from minestrone.monitor.api.errors import NotFound
from minestrone.monitor.models import QueueSample, TaskState, WorkerState

VIEW_TASKS = "monitor.view_taskstate"
VIEW_WORKERS = "monitor.view_workerstate"
MAX_LIMIT = 1000
MAX_OFFSET = 100_000
TASK_FILTERS = (
    "limit",
    "offset",
    "state",
    "taskname",
    "workername",
    "routing_key",
    "received_start",
    "received_end",
    "started_start",
    "started_end",
)


@endpoint("GET", VIEW_WORKERS, params=("workername", "status"))
def workers(request, caller, params) -> dict:
    """Every recorded worker by hostname; with status=true, only whether each is online."""
    name = params.text("workername")
    only_status = params.boolean("status")
    rows = WorkerState.objects.all()
    if name is not None:
        rows = rows.filter(hostname=name)
        if not rows:
            raise NotFound(f"no worker named {name!r}")
    if only_status:
        return {row.hostname: row.is_online() for row in rows}
    return {row.hostname: serialize.worker(row) for row in rows}


def _filtered(params) -> tuple:
    """The tasks the filters select, newest event first, and the page bounds."""
    limit = params.integer("limit", 100, 1, MAX_LIMIT)
    offset = params.integer("offset", 0, 0, MAX_OFFSET)
    lookups = {
        "state": params.choice("state", states.ALL_STATES),
        "name": params.text("taskname"),
        "worker": params.text("workername"),
        "routing_key": params.text("routing_key"),
        "received__gte": params.moment("received_start"),
        "received__lt": params.moment("received_end"),
        "started__gte": params.moment("started_start"),
        "started__lt": params.moment("started_end"),
    }
    rows = TaskState.objects.visible().filter(
        **{key: value for key, value in lookups.items() if value is not None}
    )
    return rows.order_by("-tstamp"), offset, limit


@endpoint("GET", VIEW_TASKS, params=TASK_FILTERS)
def tasks(request, caller, params) -> dict:
    """The tasks the filters select, by id, newest event first (an object keeps that order)."""
    rows, offset, limit = _filtered(params)
    page = list(rows[offset : offset + limit])
    linked = retry.links([row.task_id for row in page])
    return {row.task_id: serialize.task(row, linked[row.task_id]) for row in page}


@endpoint("GET", VIEW_TASKS)
def task_info(request, caller, params, task_id: str) -> dict:
    """One task, by id."""
    row = TaskState.objects.visible().filter(pk=task_id).first()
    if row is None:
        raise NotFound(f"no task with id {task_id!r}")
    return serialize.task(row, retry.links([task_id])[task_id])


@endpoint("GET", VIEW_TASKS)
def task_types(request, caller, params) -> dict:
    """The task names seen (one index probe per name)."""
    return {"task-types": TaskState.objects.distinct_values("name")}


@endpoint("GET", VIEW_TASKS)
def queue_lengths(request, caller, params) -> dict:
    """Each queue's depth at the camera's latest sample."""
    latest = QueueSample.objects.order_by("-at").values_list("at", flat=True).first()
    samples = QueueSample.objects.filter(at=latest).order_by("queue") if latest else []
    return {"active_queues": [serialize.queue(sample) for sample in samples]}
