"""The admin's Tasks and Workers: read-only lists of what the camera recorded, with actions
that reach the workers through Celery's remote control; and the API's tokens (registered on
import)."""

from minestrone.monitor.admin_base import MonitorAdmin, remote_control
from minestrone.monitor.admin_tasks import MAX_ACTION_TASKS, TaskStateAdmin
from minestrone.monitor.admin_workers import WorkerStateAdmin
from minestrone.monitor.api.admin import ApiTokenAdmin

__all__ = [
    "ApiTokenAdmin",
    "MAX_ACTION_TASKS",
    "MonitorAdmin",
    "TaskStateAdmin",
    "WorkerStateAdmin",
    "remote_control",
]
