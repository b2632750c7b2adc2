"""What the monitor's admin pages share: read-only rows, and actions that report the workers'
replies."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.text import capfirst

from minestrone.errors import BrokerUnreachable
from minestrone.monitor.conf import setting
from minestrone.monitor.control import Outcome, RemoteControl
from minestrone.monitor.errors import NoWorkerSelected

LIVE_RESULTS_TEMPLATE = "admin/monitor/live_results.html"


def remote_control() -> RemoteControl:
    """The project's Celery remote control, waiting MONITOR_CONTROL_TIMEOUT for replies."""
    from minestrone.celery_app import app

    return RemoteControl(app.control, float(setting("CONTROL_TIMEOUT")))


class MonitorAdmin(admin.ModelAdmin):
    """Rows are written by the camera only: nothing is added, edited or deleted here.

    The change permission is still what allows the actions (they act on the workers).
    """

    control_factory = staticmethod(remote_control)

    def has_add_permission(self, request) -> bool:
        """Never: the camera adds rows."""
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        """Never: the expiry deletes rows."""
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        """The model's change permission, for the actions; no object is ever edited."""
        if obj is not None:
            return False
        return super().has_change_permission(request)

    def changelist_view(self, request, extra_context=None):
        """The list titled "Tasks" or "Workers" (nothing here is changed by hand); when htmx
        polls it, the rows alone (one page of them, as bounded as the page)."""
        title = capfirst(self.model._meta.verbose_name_plural)
        response = super().changelist_view(request, {"title": title, **(extra_context or {})})
        if (
            getattr(request, "htmx", False)
            and request.method == "GET"
            and hasattr(response, "template_name")
        ):
            response.template_name = LIVE_RESULTS_TEMPLATE
        return response

    def _send(self, request, what: str, command) -> Outcome | None:
        """Run a remote-control command and report its outcome to the user."""
        try:
            outcome = command()
        except NoWorkerSelected:
            self.message_user(request, "No worker selected: nothing was sent.", messages.WARNING)
            return None
        except BrokerUnreachable as exc:
            self.message_user(
                request, f"{what}: not sent, the broker is unavailable ({exc}).", messages.ERROR
            )
            return None
        if outcome.failed:
            level = messages.ERROR
        elif outcome.changed_nothing:
            level = messages.WARNING
        elif outcome.answered or outcome.waited is None:
            level = messages.SUCCESS
        else:
            level = messages.WARNING
        self.message_user(request, f"{what}: {outcome.describe()}.", level)
        return outcome
