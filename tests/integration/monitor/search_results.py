"""What the Tasks admin's search selects, ours and Django's own, for the search tests of each
database."""

from django.contrib.admin.sites import site

from minestrone.monitor.admin_tasks import TaskStateAdmin
from minestrone.monitor.models import TaskState


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
