"""What the task page shows beyond the columns: durations, how it ended, links, the timeline."""

from __future__ import annotations

from urllib.parse import urlencode

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from minestrone.monitor import display, retry, states
from minestrone.monitor.models import TaskEvent, TaskState, WorkerState

ACTION_SUFFIX = " requested"


def durations(task: TaskState) -> str:
    """ "queued for 1.234 s, ran for 5.001 s": sent (or received) to started, started to end."""
    parts = []
    # the client stamps task-sent after publishing: a worker may receive the task "before"
    queued_since = min((t for t in (task.sent, task.received) if t), default=None)
    if queued_since and task.started:
        parts.append(f"queued for {display.duration(queued_since, task.started)}")
    if task.started and task.finished:
        parts.append(f"ran for {display.duration(task.started, task.finished)}")
    elif task.runtime is not None:
        parts.append(f"ran for {display.seconds(task.runtime)}")
    return ", ".join(parts) or "—"


def _last_request(task_id: str) -> TaskEvent | None:
    """The latest action asked on the task from the admin (revoke, terminate, kill)."""
    requests = [e for e in TaskEvent.objects.timeline(task_id) if e.kind.endswith(ACTION_SUFFIX)]
    return requests[-1] if requests else None


def how_it_ended(task: TaskState) -> str:
    """Succeeded / failed / revoked, terminated or killed, with who asked and when."""
    when = f" at {display.exact_time(task.finished)}" if task.finished else ""
    if task.state == states.SUCCESS:
        return f"succeeded{when}"
    if task.state == states.FAILURE:
        return f"failed{when}"
    if task.state == states.REVOKED:
        text = f"{task.revocation or 'revoked'}{when}"
        request = _last_request(task.task_id)
        if request is not None:
            asked = display.exact_time(request.timestamp)
            text += f"; {request.kind} {request.detail or ''} at {asked}".replace("  ", " ")
        return text
    return f"not finished: {task.state}"


def tasks_url(**filters: str) -> str:
    """The Tasks list filtered."""
    return reverse("admin:monitor_taskstate_changelist") + "?" + urlencode(filters)


def worker_links(task: TaskState) -> SafeString | str:
    """The worker's page (when it is recorded) and the list of its tasks."""
    if not task.worker:
        return "—"
    worker = WorkerState.objects.filter(hostname=task.worker).only("pk").first()
    name = (
        format_html(
            '<a href="{}">{}</a>',
            reverse("admin:monitor_workerstate_change", args=[worker.pk]),
            task.worker,
        )
        if worker
        else task.worker
    )
    return format_html('{} · <a href="{}">its tasks</a>', name, tasks_url(worker=task.worker))


def routing_key_links(task: TaskState) -> SafeString | str:
    """The routing key, with links to the tasks of the same key and of its first words."""
    key = task.routing_key
    if not key:
        return "—"
    links = [format_html('<a href="{}">same key</a>', tasks_url(routing_key=key))]
    if "." in key:
        prefix = key.rsplit(".", 1)[0] + ".*"
        links.append(
            format_html('<a href="{}">{}</a>', tasks_url(routing_key_prefix=prefix), prefix)
        )
    return format_html(
        '<code class="monitor-key">{}</code> · {}', key, SafeString(" · ".join(links))
    )


def timeline(task: TaskState) -> SafeString:
    """The task's events and actions, oldest first, with the time since the first."""
    events = TaskEvent.objects.timeline(task.task_id)
    first = events[0].timestamp if events else None
    rows = [
        {
            "event": event,
            "at": display.exact_time(event.timestamp),
            "after": display.duration(first, event.timestamp) if event is not events[0] else "",
            "action": event.kind.endswith(ACTION_SUFFIX),
        }
        for event in events
    ]
    return render_to_string("admin/monitor/taskstate/timeline.html", {"rows": rows})


def _task_link(task_id: str) -> SafeString:
    return format_html(
        '<a href="{}">{}</a>', reverse("admin:monitor_taskstate_change", args=[task_id]), task_id
    )


def retry_links(task: TaskState) -> SafeString | str:
    """The task it is a retry of, and the tasks it was retried as, as links."""
    link = retry.links([task.task_id])[task.task_id]
    parts = []
    if link["retry_of"]:
        parts.append(format_html("retry of {}", _task_link(link["retry_of"])))
    if link["retried_as"]:
        again = SafeString(", ".join(_task_link(other) for other in link["retried_as"]))
        parts.append(format_html("retried as {}", again))
    return SafeString("; ".join(parts)) if parts else "—"
