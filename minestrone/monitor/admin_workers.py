"""The admin's Workers: ONLINE while their heartbeats arrive, with shutdown and event switches."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from minestrone.monitor import display, worker_info
from minestrone.monitor.admin_base import MonitorAdmin
from minestrone.monitor.conf import setting
from minestrone.monitor.filters import WorkerStatusFilter
from minestrone.monitor.forms import WorkerCommandForm
from minestrone.monitor.models import TaskLimit, WorkerState
from minestrone.monitor.task_page import tasks_url


@admin.register(WorkerState)
class WorkerStateAdmin(MonitorAdmin):
    """The workers, ONLINE while their heartbeats arrive."""

    list_display = (
        "hostname",
        "status_badge",
        "last_heartbeat_when",
        "active",
        "processed",
        "loadavg",
        "software",
        "tasks_link",
    )
    list_filter = (WorkerStatusFilter,)

    class Media:
        """The monitor's list and page layout (one line per row, narrow screens)."""

        css = {"all": ("monitor/admin.css",)}

    show_facets = admin.ShowFacets.NEVER  # facet counts read the whole table
    search_fields = ("hostname",)
    actions = ("shutdown_workers", "enable_events", "disable_events")
    fields = (
        "hostname",
        "status_badge",
        "last_heartbeat_when",
        "heartbeat_expires_at",
        "pid",
        "active",
        "processed",
        "loadavg",
        "software",
        "tasks_link",
    )
    readonly_fields = fields

    @admin.display(description="status", ordering="heartbeat_expires")
    def status_badge(self, obj: WorkerState) -> SafeString:
        """ONLINE (green) or OFFLINE (grey)."""
        background = "#1a7f37" if obj.is_online() else "#57606a"
        return format_html(
            '<span style="background:{};color:#ffffff;padding:1px 6px;border-radius:3px;'
            'font-weight:bold">{}</span>',
            background,
            obj.status,
        )

    @admin.display(description="last heartbeat", ordering="last_heartbeat")
    def last_heartbeat_when(self, obj: WorkerState) -> SafeString | str:
        """The last heartbeat, naturally, exactly in the tooltip."""
        return display.natural_time(obj.last_heartbeat)

    @admin.display(description="heartbeat expires")
    def heartbeat_expires_at(self, obj: WorkerState) -> SafeString | str:
        """Until when the worker counts as ONLINE, to the millisecond."""
        return display.timestamp(obj.heartbeat_expires)

    @admin.display(description="software")
    def software(self, obj: WorkerState) -> str:
        """Software, version and system, such as "py-celery 5.7.0 (Linux)"."""
        parts = [obj.sw_ident or "", obj.sw_ver or ""]
        text = " ".join(part for part in parts if part)
        return f"{text} ({obj.sw_sys})" if obj.sw_sys else text

    @admin.display(description="tasks")
    def tasks_link(self, obj: WorkerState) -> SafeString:
        """The Tasks list of this worker."""
        return format_html('<a href="{}">its tasks</a>', tasks_url(worker=obj.hostname))

    def get_urls(self) -> list:
        """The worker's page, plus the endpoint of its commands (pool, consumers, limits)."""
        command = path(
            "<path:object_id>/command/",
            self.admin_site.admin_view(self.command_view),
            name="monitor_workerstate_command",
        )
        return [command, *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None) -> HttpResponse:
        """The recorded row, and what the worker says about itself now (asked live)."""
        worker = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if worker is not None and not self.has_view_or_change_permission(request, worker):
            raise PermissionDenied  # before asking the worker anything
        if worker is not None:
            from minestrone.celery_app import app

            extra["worker_info"] = worker_info.ask(
                app, worker.hostname, float(setting("CONTROL_TIMEOUT"))
            )
            extra["limits"] = TaskLimit.objects.all()[:200]
            extra["can_command"] = self.has_change_permission(request)
            extra["worker_tasks_url"] = tasks_url(worker=worker.hostname)
        return super().change_view(request, object_id, form_url, extra)

    def command_view(self, request, object_id) -> HttpResponse:
        """Run one command on this worker (POST) and report its replies on the worker's page."""
        worker = self.get_object(request, object_id)
        if worker is None or request.method != "POST":
            return HttpResponseRedirect(reverse("admin:monitor_workerstate_changelist"))
        if not self.has_change_permission(request):
            raise PermissionDenied
        back = HttpResponseRedirect(reverse("admin:monitor_workerstate_change", args=[worker.pk]))
        form = WorkerCommandForm(request.POST)
        if not form.is_valid():
            self.message_user(request, f"Not sent: {form.error_text()}", messages.ERROR)
            return back
        self._command(request, worker.hostname, form.cleaned_data)
        return back

    def _command(self, request, host: str, data: dict) -> None:
        control = self.control_factory()
        command = data["command"]
        who, now = request.user.get_username(), timezone.now()
        # the limits go to every worker: the wait ends once every online one answered
        online = WorkerState.objects.online_now()
        calls = {
            "pool_grow": (
                f"Grow the pool by {data['n']}",
                lambda: control.pool_grow(host, data["n"]),
            ),
            "pool_shrink": (
                f"Shrink the pool by {data['n']}",
                lambda: control.pool_shrink(host, data["n"]),
            ),
            "autoscale": (
                f"Autoscale between {data['min']} and {data['max']}",
                lambda: control.autoscale(host, data["max"], data["min"]),
            ),
            "add_consumer": (
                f"Consume from {data['queue']}",
                lambda: control.add_consumer(
                    host, data["queue"], "default", data["binding_key"] or data["queue"]
                ),
            ),
            "cancel_consumer": (
                f"Stop consuming from {data['queue']}",
                lambda: control.cancel_consumer(host, data["queue"]),
            ),
            "time_limit": (
                f"Time limits of {data['task_name']}",
                lambda: control.time_limit(
                    data["task_name"], data["soft"], data["hard"], expected=online
                ),
            ),
            "rate_limit": (
                f"Rate limit {data['rate']} for {data['task_name']}",
                lambda: control.rate_limit(data["task_name"], data["rate"], expected=online),
            ),
        }
        what, call = calls[command]
        outcome = self._send(request, what, call)
        if outcome is None or outcome.failed:
            return
        if command == "time_limit":
            TaskLimit.objects.set_time(data["task_name"], data["soft"], data["hard"], who, now)
        elif command == "rate_limit":
            TaskLimit.objects.set_rate(data["task_name"], data["rate"], who, now)

    def _hostnames(self, queryset) -> list[str]:
        return list(queryset.order_by("hostname").values_list("hostname", flat=True))

    @admin.action(
        description="Shut down the selected workers (running tasks finish)", permissions=["change"]
    )
    def shutdown_workers(self, request, queryset) -> None:
        """Warm shutdown of the selected workers."""
        hosts = self._hostnames(queryset)
        control = self.control_factory()
        self._send(request, f"Shut down {', '.join(hosts)}", lambda: control.shutdown(hosts))

    @admin.action(description="Enable task events on the selected workers", permissions=["change"])
    def enable_events(self, request, queryset) -> None:
        """Make the selected workers send task events."""
        hosts = self._hostnames(queryset)
        control = self.control_factory()
        self._send(request, "Enable events", lambda: control.enable_events(hosts))

    @admin.action(description="Disable task events on the selected workers", permissions=["change"])
    def disable_events(self, request, queryset) -> None:
        """Make the selected workers stop sending task events."""
        hosts = self._hostnames(queryset)
        control = self.control_factory()
        self._send(request, "Disable events", lambda: control.disable_events(hosts))
