"""What the camera records: one row per task and one per worker, as the events told them."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils import timezone

from minestrone.monitor import states
from minestrone.monitor.managers import (
    DateProbingQuerySet,
    TaskEventQuerySet,
    TaskLimitQuerySet,
    TaskStateQuerySet,
    WorkerStateQuerySet,
)

STATE_CHOICES = [(state, state) for state in states.ALL_STATES]


class TaskState(models.Model):
    """A task: its latest state, and everything its events said about it."""

    task_id = models.CharField("task id", max_length=255, primary_key=True)
    state = models.CharField(max_length=64, choices=STATE_CHOICES)
    # Orders the observations of the task (see states.progress): never moves backwards.
    progress = models.BigIntegerField(editable=False)
    tstamp = models.DateTimeField("event time", help_text="Time of the event that set the state.")
    name = models.CharField(max_length=255, null=True, blank=True)
    args = models.TextField("arguments", null=True, blank=True)
    kwargs = models.TextField("keyword arguments", null=True, blank=True)
    eta = models.DateTimeField("ETA", null=True, blank=True)
    expires = models.DateTimeField(null=True, blank=True)
    result = models.TextField(null=True, blank=True)
    traceback = models.TextField(null=True, blank=True)
    runtime = models.FloatField(null=True, blank=True, help_text="Seconds.")
    retries = models.IntegerField(null=True, blank=True)
    worker = models.CharField(max_length=255, null=True, blank=True)
    hidden = models.BooleanField(default=False, db_default=False, editable=False)
    exchange = models.CharField(max_length=255, null=True, blank=True)
    routing_key = models.CharField(max_length=255, null=True, blank=True)
    queue = models.CharField(max_length=255, null=True, blank=True)
    sent = models.DateTimeField(null=True, blank=True)
    received = models.DateTimeField(null=True, blank=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    revocation = models.CharField(
        "how it was revoked",
        max_length=64,
        null=True,
        blank=True,
        help_text="revoked, terminated (SIGTERM), killed (SIGKILL) or expired.",
    )

    objects = TaskStateQuerySet.as_manager()
    admin_objects = DateProbingQuerySet.as_manager()  # the admin's list (see its datetimes())

    class Meta:
        """Newest first; indexed for the admin's filters and order and the cleanup."""

        verbose_name = "task"
        verbose_name_plural = "tasks"
        ordering = ["-tstamp"]
        get_latest_by = "tstamp"
        indexes = [
            # The list's order and date filters; the cleanup of "every other state".
            models.Index(fields=["tstamp"], name="monitor_task_tstamp"),
            # Each filter, kept in the list's order; the cleanup by state.
            models.Index(fields=["state", "tstamp"], name="monitor_task_state_tstamp"),
            models.Index(fields=["name", "tstamp"], name="monitor_task_name_tstamp"),
            models.Index(fields=["worker", "tstamp"], name="monitor_task_worker_tstamp"),
            models.Index(fields=["routing_key", "tstamp"], name="monitor_task_rkey_tstamp"),
        ]

    def __str__(self) -> str:
        return f"{self.name or 'unknown task'}[{self.task_id}] {self.state}"


class WorkerState(models.Model):
    """A worker: its last heartbeat and what it reported then."""

    hostname = models.CharField(max_length=255, unique=True)
    last_heartbeat = models.DateTimeField(null=True, blank=True)
    # Celery's heartbeat expiry (plus one camera interval): ONLINE until then.
    heartbeat_expires = models.DateTimeField(null=True, blank=True, db_index=True)
    pid = models.IntegerField("PID", null=True, blank=True)
    sw_ident = models.CharField("software", max_length=64, null=True, blank=True)
    sw_ver = models.CharField("version", max_length=64, null=True, blank=True)
    sw_sys = models.CharField("system", max_length=64, null=True, blank=True)
    active = models.IntegerField(null=True, blank=True, help_text="Tasks running now.")
    processed = models.BigIntegerField(null=True, blank=True, help_text="Tasks run so far.")
    loadavg = models.CharField("load average", max_length=64, null=True, blank=True)

    objects = WorkerStateQuerySet.as_manager()

    class Meta:
        """By hostname."""

        verbose_name = "worker"
        verbose_name_plural = "workers"
        ordering = ["hostname"]

    def __str__(self) -> str:
        return self.hostname

    def is_online(self, now: datetime | None = None) -> bool:
        """True while the last heartbeat has not expired."""
        now = now or timezone.now()
        return self.heartbeat_expires is not None and now < self.heartbeat_expires

    @property
    def status(self) -> str:
        """ONLINE or OFFLINE, as of now."""
        return "ONLINE" if self.is_online() else "OFFLINE"


class TaskEvent(models.Model):
    """One event of a task (sent, received, started, retried, succeeded…), or an action taken
    on it from the admin (such as a revoke, with who asked): the task page's timeline."""

    task_id = models.CharField("task id", max_length=255)
    kind = models.CharField(max_length=64)
    timestamp = models.DateTimeField()
    hostname = models.CharField(max_length=255, null=True, blank=True)
    detail = models.TextField(null=True, blank=True)

    objects = TaskEventQuerySet.as_manager()

    class Meta:
        """Oldest first: a timeline."""

        verbose_name = "task event"
        verbose_name_plural = "task events"
        ordering = ["timestamp", "id"]
        indexes = [
            models.Index(fields=["task_id", "timestamp"], name="monitor_event_task_time"),
            models.Index(fields=["timestamp"], name="monitor_event_time"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.task_id} {self.timestamp:%Y-%m-%d %H:%M:%S.%f}"


class TaskLimit(models.Model):
    """The rate and time limits set on a task name from the monitor: workers forget them when
    they restart, so the camera applies them again to every worker that comes online."""

    name = models.CharField("task name", max_length=255, unique=True)
    rate_limit = models.CharField(max_length=32, null=True, blank=True)
    soft_time_limit = models.FloatField(null=True, blank=True, help_text="Seconds.")
    time_limit = models.FloatField(null=True, blank=True, help_text="Seconds.")
    changed = models.DateTimeField()
    changed_by = models.CharField(max_length=150, blank=True, default="")

    objects = TaskLimitQuerySet.as_manager()

    class Meta:
        """By task name."""

        verbose_name = "task limit"
        verbose_name_plural = "task limits"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class QueueSample(models.Model):
    """A queue's depth as the camera read it from the broker: the dashboard's queue chart."""

    queue = models.CharField(max_length=255)
    at = models.DateTimeField()
    ready = models.BigIntegerField()
    # None: unknown (Redis keeps no count of a queue's consumers).
    consumers = models.IntegerField(null=True, blank=True)
    # Delivered, not yet acknowledged; None: unknown (read by AMQP passive declare).
    unacked = models.BigIntegerField(null=True, blank=True)

    class Meta:
        """Oldest first, by time (the chart's range and the cleanup)."""

        verbose_name = "queue sample"
        verbose_name_plural = "queue samples"
        ordering = ["at"]
        indexes = [models.Index(fields=["at"], name="monitor_queue_sample_at")]

    def __str__(self) -> str:
        return f"{self.queue} {self.ready} ready at {self.at:%Y-%m-%d %H:%M:%S}"


class SummarisedHour(models.Model):
    """An hour whose finished tasks are summed up in HourCount rows (the day's dashboard)."""

    hour = models.DateTimeField(unique=True)
    computed = models.DateTimeField(auto_now_add=True)

    class Meta:
        """By hour."""

        verbose_name = "summarised hour"
        verbose_name_plural = "summarised hours"
        ordering = ["hour"]

    def __str__(self) -> str:
        return f"tasks of {self.hour:%Y-%m-%d %H:00}"


class HourCount(models.Model):
    """How many tasks of a summarised hour finished in one state, by name and worker."""

    summary = models.ForeignKey(SummarisedHour, on_delete=models.CASCADE, related_name="counts")
    state = models.CharField(max_length=64, choices=STATE_CHOICES)
    name = models.CharField(max_length=255, null=True, blank=True)
    worker = models.CharField(max_length=255, null=True, blank=True)
    tasks = models.PositiveIntegerField()

    class Meta:
        """In no particular order."""

        verbose_name = "hour count"
        verbose_name_plural = "hour counts"

    def __str__(self) -> str:
        return f"{self.tasks} {self.state} {self.name} on {self.worker}"


class HourRuntimes(models.Model):
    """The runtimes of one task name's successes in a summarised hour, as a histogram:
    {bucket index: runs} (``minestrone.monitor.rollup``)."""

    summary = models.ForeignKey(
        SummarisedHour, on_delete=models.CASCADE, related_name="runtimes"
    )
    name = models.CharField(max_length=255, null=True, blank=True)
    runs = models.JSONField(default=dict)

    class Meta:
        """In no particular order."""

        verbose_name = "hour runtimes"
        verbose_name_plural = "hour runtimes"

    def __str__(self) -> str:
        return f"runtimes of {self.name}"


# The API's tokens live beside the API; imported here so that Django registers the model.
from minestrone.monitor.api.tokens import ApiToken  # noqa: E402

__all__ = [
    "ApiToken",
    "HourCount",
    "HourRuntimes",
    "QueueSample",
    "SummarisedHour",
    "TaskEvent",
    "TaskLimit",
    "TaskState",
    "WorkerState",
]
