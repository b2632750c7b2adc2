"""Whose job arguments a visitor of the active page may read: their own, or all for staff.

Everyone sees what the workers run now (task name, routing key, worker, time): that is the
tutorial's page. A job's argument is what its sender typed, so it is shown only to the session
that queued it, and to staff allowed to view the monitor's task states.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from minestrone.soup import recent
from minestrone.soup.activity import ActiveTask, Activity

SEE_ALL_PERMISSION = "monitor.view_taskstate"


def argument_reader(request) -> Callable[[str], bool]:
    """Whether the visitor of ``request`` may read the arguments of a task, by task id."""
    user = getattr(request, "user", None)
    if user is not None and user.has_perm(SEE_ALL_PERMISSION):
        return lambda task_id: True
    own = recent.task_ids(request.session)
    return own.__contains__


def _hidden(tasks: Iterable[ActiveTask], may_read: Callable[[str], bool]) -> list[ActiveTask]:
    return [task if may_read(task.task_id) else replace(task, args=None) for task in tasks]


def for_visitor(activity: Activity, may_read: Callable[[str], bool]) -> Activity:
    """``activity`` with the arguments of the tasks the visitor may not read set to None."""
    return replace(
        activity,
        tasks=_hidden(activity.tasks, may_read),
        reserved=_hidden(activity.reserved, may_read),
        scheduled=_hidden(activity.scheduled, may_read),
    )


def hide_waiting_arguments(waiting: Iterable, may_read: Callable[[str], bool]) -> list:
    """The waiting tasks (rows of this request only), arguments of the others' set to None."""
    rows = list(waiting)
    for row in rows:
        if not may_read(row.task_id):
            row.args = None
    return rows
