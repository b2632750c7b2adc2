"""The search tests' tasks, and what the Tasks admin's search selects, ours and Django's own, for
the search tests of each database."""

from datetime import datetime

from django.contrib.admin.sites import site

from minestrone.monitor.admin_tasks import TaskStateAdmin
from minestrone.monitor.models import TaskState
from minestrone.monitor.states import progress


def searched(rf, words: str):
    """The tasks the admin's search selects."""
    admin = TaskStateAdmin(TaskState, site)
    found, _ = admin.get_search_results(rf.get("/"), TaskState.objects.all(), words)
    return found


def django_search(rf, words: str):
    """What Django's own admin search selects (OR over the columns, AND over the words)."""
    admin = TaskStateAdmin(TaskState, site)
    found, _ = super(TaskStateAdmin, admin).get_search_results(
        rf.get("/"), TaskState.objects.all(), words
    )
    return found


def task_rows(count: int, now: datetime) -> list[dict]:
    """``count`` finished tasks whose columns hold words, numbers and punctuation to search."""
    return [
        {
            "task_id": f"id-{n:05d}",
            "state": "SUCCESS",
            "progress": progress("SUCCESS", now.timestamp()),
            "tstamp": now,
            "name": f"app.tasks.job_{n % 20}",
            "args": f"({n}, 'Soup_{n % 7}', 'the café')" if n % 3 else f"({n},)",
            "kwargs": "{'pot': '50%'}" if n % 100 == 0 else "{}",
            "routing_key": f"tasks.kitchen.{n % 10}",
            "worker": f"w{n % 4}@host",
        }
        for n in range(count)
    ]
