"""The admin's Workers: ONLINE while their heartbeats arrive, with shutdown and event switches."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html
from django.utils.safestring import SafeString

from minestrone.monitor import display
from minestrone.monitor.admin_base import MonitorAdmin
from minestrone.monitor.filters import WorkerStatusFilter
from minestrone.monitor.models import WorkerState
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
        "heartbeat_expires",
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
