"""Task rows as the camera would have recorded them, for the chart and summary tests."""

from datetime import datetime

from minestrone.monitor.models import TaskState
from minestrone.monitor.states import progress


def record(task_id, state, when: datetime, name="app.add", runtime=None, worker="w1"):
    """A TaskState row whose last event, in ``state``, came at ``when``."""
    return TaskState.objects.create(
        task_id=task_id,
        state=state,
        progress=progress(state, when.timestamp()),
        tstamp=when,
        name=name,
        runtime=runtime,
        worker=worker,
    )
