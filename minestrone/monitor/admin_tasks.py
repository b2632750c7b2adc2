"""The admin's Tasks: what the camera recorded, filtered by indexes, with revoke, terminate,
kill and rate-limit actions."""

from __future__ import annotations

import re
from datetime import timedelta

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.views.main import SEARCH_VAR
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.safestring import SafeString

from minestrone.errors import BrokerUnreachable
from minestrone.monitor import (
    admin_dead_letters,
    display,
    retry,
    search,
    search_fulltext,
    task_page,
)
from minestrone.monitor.admin_base import MonitorAdmin
from minestrone.monitor.conf import setting
from minestrone.monitor.errors import RetryRefused
from minestrone.monitor.filters import (
    NameFilter,
    RoutingKeyFilter,
    RoutingKeyPrefixFilter,
    WorkerFilter,
)
from minestrone.monitor.forms import RateLimitForm
from minestrone.monitor.managers import DateProbingQuerySet
from minestrone.monitor.models import TaskEvent, TaskLimit, TaskState, WorkerState
from minestrone.monitor.notice import idle_notice
from minestrone.monitor.paginator import CappedPaginator

# The most tasks one action sends to the workers (a revoke carries every id).
MAX_ACTION_TASKS = 10_000
# The most tasks one "send again" action sends (one message each).
MAX_RETRY_TASKS = 100
# The most task names one rate-limit action sends (one command, and its replies, per name).
MAX_RATE_LIMIT_NAMES = 20
# A word search counts at most this many matches (each one a row read and matched; the
# unsearched list counts through the time index, up to the paginator's own cap).
SEARCH_COUNT_CAP = 1_000
ROUTING_PREFIX = re.compile(r"[A-Za-z0-9_.-]+\*")
TASK_ID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def indexed_search(term: str) -> bool:
    """True for a search an index answers: a task id, or a routing key prefix such as tasks.*."""
    return bool(TASK_ID.fullmatch(term) or ROUTING_PREFIX.fullmatch(term))


@admin.register(TaskState)
class TaskStateAdmin(MonitorAdmin):
    """The tasks, newest event first."""

    # Each value on one line, cut to its column (in full on hover and on the task's page):
    # the list fits a 1280 px laptop, and a 390 px phone without the narrow-hidden columns.
    list_display = (
        "task_link",
        "colored_state",
        "short_name",
        "short_args",
        "short_routing_key",
        "when",
        "runtime_seconds",
        "short_worker",
    )
    list_display_links = ("task_link",)
    list_filter = (
        "state",
        NameFilter,
        WorkerFilter,
        RoutingKeyFilter,
        RoutingKeyPrefixFilter,
        ("tstamp", admin.DateFieldListFilter),
    )
    search_fields = ("task_id", "name", "routing_key", "args", "kwargs", "worker")
    search_help_text = (
        "A task id finds its task at once; a routing key ending in * (tasks.reports.*) finds "
        "the keys it starts. Other words are looked for in the id, name, routing key, "
        "arguments and worker of every task: slow on a big table, where the filters are faster."
    )
    date_hierarchy = "tstamp"
    ordering = ("-tstamp",)
    list_per_page = 100
    paginator = CappedPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facet counts read the whole table
    # Only columns an index orders (the primary key, the event time): no full-table sort.
    sortable_by = ("task_link", "when")

    class Media:
        """The monitor's list and page layout (one line per row, narrow screens)."""

        css = {"all": ("monitor/admin.css",)}

    actions = ("revoke_tasks", "terminate_tasks", "kill_tasks", "rate_limit_tasks", "retry_tasks")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "task_id",
                    "name",
                    "colored_state",
                    "how_it_ended",
                    "worker_link",
                    "retries",
                    "sent_again",
                    "runtime_seconds",
                )
            },
        ),
        ("Times", {"fields": ("sent_at", "received_at", "started_at", "finished_at", "durations")}),
        ("Call", {"fields": ("args_text", "kwargs_text", "eta_at", "expires_at")}),
        ("Routing", {"fields": ("exchange", "routing_key_link", "queue")}),
        ("Outcome", {"fields": ("result_text", "traceback_text")}),
        ("Timeline", {"fields": ("timeline",)}),
    )
    readonly_fields = (
        "task_id",
        "name",
        "colored_state",
        "how_it_ended",
        "worker_link",
        "retries",
        "sent_again",
        "runtime_seconds",
        "sent_at",
        "received_at",
        "started_at",
        "finished_at",
        "durations",
        "args_text",
        "kwargs_text",
        "eta_at",
        "expires_at",
        "exchange",
        "routing_key_link",
        "queue",
        "result_text",
        "traceback_text",
        "timeline",
    )

    def get_queryset(self, request) -> DateProbingQuerySet:
        """Tasks not hidden, newest event first; date hierarchy by index probes."""
        queryset = TaskState.admin_objects.visible()
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        """The capped paginator; under a word search, capped lower (counting matches of a
        common word is what such a page spends its time on)."""
        paginator = super().get_paginator(
            request, queryset, per_page, orphans, allow_empty_first_page
        )
        term = request.GET.get(SEARCH_VAR, "").strip()
        if term and not indexed_search(term):
            paginator.cap = SEARCH_COUNT_CAP
        return paginator

    def get_search_results(self, request, queryset, search_term: str) -> tuple:
        """A task id finds its task through the primary key; other words search the columns."""
        term = search_term.strip()
        if TASK_ID.fullmatch(term):
            return queryset.filter(pk=term), False
        if ROUTING_PREFIX.fullmatch(term):
            return queryset.filter(routing_key__startswith=term[:-1]), False
        if term and search.available(queryset.db):
            return search.matching(queryset, term), False
        if term and search_fulltext.available(queryset.db):
            return search_fulltext.matching(queryset, term), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="task", ordering="task_id")
    def task_link(self, obj: TaskState) -> SafeString:
        """The task id's start (the whole id on hover), linking to the task's page."""
        return display.short_id(obj.task_id)

    @admin.display(description="name")
    def short_name(self, obj: TaskState) -> SafeString | str:
        """The task's name on one line."""
        return display.truncated(obj.name, "monitor-trunc monitor-trunc-start")

    @admin.display(description="routing key")
    def short_routing_key(self, obj: TaskState) -> SafeString | str:
        """The routing key on one line."""
        return display.truncated(obj.routing_key)

    @admin.display(description="worker")
    def short_worker(self, obj: TaskState) -> SafeString | str:
        """The worker on one line."""
        return display.truncated(obj.worker)

    @admin.display(description="state", ordering="state")
    def colored_state(self, obj: TaskState) -> SafeString:
        """The state as a coloured badge."""
        return display.state_badge(obj.state)

    @admin.display(description="arguments")
    def short_args(self, obj: TaskState) -> SafeString | str:
        """The positional arguments, shortened, on one line."""
        return display.truncated(display.shorten(obj.args))

    @admin.display(description="keyword arguments")
    def short_kwargs(self, obj: TaskState) -> str:
        """The keyword arguments, shortened."""
        return display.shorten(obj.kwargs)

    @admin.display(description="when", ordering="tstamp")
    def when(self, obj: TaskState) -> SafeString | str:
        """The time of the last state change, naturally, exactly in the tooltip."""
        return display.natural_time(obj.tstamp)

    @admin.display(description="runtime", ordering="runtime")
    def runtime_seconds(self, obj: TaskState) -> str:
        """The runtime in seconds."""
        return display.seconds(obj.runtime)

    @admin.display(description="arguments")
    def args_text(self, obj: TaskState) -> SafeString | str:
        """The positional arguments in full."""
        return display.monospace(obj.args)

    @admin.display(description="keyword arguments")
    def kwargs_text(self, obj: TaskState) -> SafeString | str:
        """The keyword arguments in full."""
        return display.monospace(obj.kwargs)

    @admin.display(description="result")
    def result_text(self, obj: TaskState) -> SafeString | str:
        """The result (or exception) in monospace."""
        return display.monospace(obj.result)

    @admin.display(description="traceback")
    def traceback_text(self, obj: TaskState) -> SafeString | str:
        """The traceback in monospace."""
        return display.monospace(obj.traceback)

    @admin.display(description="sent")
    def sent_at(self, obj: TaskState) -> SafeString | str:
        """When the client sent the task."""
        return display.timestamp(obj.sent)

    @admin.display(description="received")
    def received_at(self, obj: TaskState) -> SafeString | str:
        """When a worker received it, and how long after it was sent."""
        return display.timestamp(obj.received, since=obj.sent)

    @admin.display(description="started")
    def started_at(self, obj: TaskState) -> SafeString | str:
        """When it started, and how long after it was received."""
        return display.timestamp(obj.started, since=obj.received or obj.sent)

    @admin.display(description="finished")
    def finished_at(self, obj: TaskState) -> SafeString | str:
        """When it finished, and how long after it started."""
        return display.timestamp(obj.finished, since=obj.started or obj.received or obj.sent)

    @admin.display(description="ETA")
    def eta_at(self, obj: TaskState) -> SafeString | str:
        """The time it was due to run."""
        return display.timestamp(obj.eta)

    @admin.display(description="expires")
    def expires_at(self, obj: TaskState) -> SafeString | str:
        """The time after which it is not run."""
        return display.timestamp(obj.expires)

    @admin.display(description="durations")
    def durations(self, obj: TaskState) -> str:
        """Queued for (sent to started) and ran for (started to finished)."""
        return task_page.durations(obj)

    @admin.display(description="how it ended")
    def how_it_ended(self, obj: TaskState) -> str:
        """Succeeded, failed, or revoked / terminated / killed, by whom and when."""
        return task_page.how_it_ended(obj)

    @admin.display(description="worker")
    def worker_link(self, obj: TaskState) -> SafeString | str:
        """The worker's page and its other tasks."""
        return task_page.worker_links(obj)

    @admin.display(description="routing key")
    def routing_key_link(self, obj: TaskState) -> SafeString | str:
        """The routing key, with the tasks of the same key and of its prefix."""
        return task_page.routing_key_links(obj)

    @admin.display(description="events")
    def timeline(self, obj: TaskState) -> SafeString:
        """The task's events, oldest first, and the actions taken on it."""
        return task_page.timeline(obj)

    @admin.display(description="sent again")
    def sent_again(self, obj: TaskState) -> SafeString | str:
        """The task it retries, and the tasks it was sent again as."""
        return task_page.retry_links(obj)

    def get_urls(self) -> list:
        """The task's page, plus the endpoint of its "Send again" button, and the Dead letters
        page."""
        again = path(
            "<path:object_id>/retry/",
            self.admin_site.admin_view(self.retry_view),
            name="monitor_taskstate_retry",
        )
        return [*admin_dead_letters.urls(self), again, *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None) -> HttpResponse:
        """The task's page, with "Send again" for a failed, revoked or rejected task."""
        task = self.get_object(request, object_id)
        retryable = task is not None and task.state in retry.RETRYABLE
        can_retry = retryable and self.has_change_permission(request)
        extra = {**(extra_context or {}), "can_retry": can_retry}
        return super().change_view(request, object_id, form_url, extra)

    def retry_view(self, request, object_id) -> HttpResponse:
        """Send the task again (POST), then show the new task's page."""
        task = self.get_object(request, object_id)
        if task is None or request.method != "POST":
            return HttpResponseRedirect(reverse("admin:monitor_taskstate_changelist"))
        if not self.has_change_permission(request):
            raise PermissionDenied
        new_id = self._retry_one(request, task)
        target = new_id if new_id is not None else task.task_id
        return HttpResponseRedirect(reverse("admin:monitor_taskstate_change", args=[target]))

    def _retry_one(self, request, task: TaskState) -> str | None:
        try:
            new_id = retry.retry(task, request.user.get_username())
        except RetryRefused as exc:
            self.message_user(request, f"Not sent again: {exc}.", messages.ERROR)
            return None
        except BrokerUnreachable as exc:
            self.message_user(
                request, f"Not sent again: the broker is unavailable ({exc}).", messages.ERROR
            )
            return None
        self.message_user(
            request, f"Task {task.task_id} sent again as {new_id}.", messages.SUCCESS
        )
        return new_id

    @admin.action(
        description="Send the selected tasks again (failed, revoked or rejected ones)",
        permissions=["change"],
    )
    def retry_tasks(self, request, queryset) -> None:
        """Send each selected task again, with its name, arguments and routing key."""
        tasks = list(queryset[: MAX_RETRY_TASKS + 1])
        if len(tasks) > MAX_RETRY_TASKS:
            self.message_user(
                request,
                f"More than {MAX_RETRY_TASKS} tasks are selected: narrow the selection (filter "
                "by state and name) and try again. Nothing was sent.",
                messages.ERROR,
            )
            return
        for task in tasks:
            self._retry_one(request, task)

    def history_view(self, request, object_id, extra_context=None) -> HttpResponse:
        """The task's own timeline (on its page), not Django's change log: tasks never change
        through the admin."""
        return HttpResponseRedirect(
            reverse("admin:monitor_taskstate_change", args=[object_id]) + "#timeline"
        )

    def changelist_view(self, request, extra_context=None) -> HttpResponse:
        """The list, with an explanation when no event arrived lately; not polled while a word
        search (a scan of the whole table) is active."""
        term = request.GET.get(SEARCH_VAR, "").strip()
        extra_context = {
            **(extra_context or {}),
            "monitor_notice": self.idle_notice(),
            "live_paused_by_search": bool(term) and not indexed_search(term),
        }
        return super().changelist_view(request, extra_context)

    def idle_notice(self) -> str | None:
        """Why no task event arrived lately, or None when some did."""
        now = timezone.now()
        return idle_notice(
            now=now,
            quiet_after=timedelta(minutes=float(setting("IDLE_NOTICE_MINUTES"))),
            newest_task_event=TaskState.objects.newest_event_time(),
            newest_heartbeat=WorkerState.objects.newest_heartbeat(),
            online_workers=WorkerState.objects.online(now).count(),
        )

    def _selected_ids(self, request, queryset) -> list[str] | None:
        ids = list(queryset.order_by().values_list("pk", flat=True)[: MAX_ACTION_TASKS + 1])
        if len(ids) > MAX_ACTION_TASKS:
            self.message_user(
                request,
                f"More than {MAX_ACTION_TASKS:,} tasks are selected: narrow the selection "
                "with the filters and try again. Nothing was sent.",
                messages.ERROR,
            )
            return None
        return ids

    def _revoke(self, request, queryset, signal: str | None, verb: str) -> None:
        ids = self._selected_ids(request, queryset)
        if ids is None:
            return
        control = self.control_factory()
        # returns once every online worker answered, not at the timeout; the workers holding
        # the tasks are named if they had not answered by then
        online, holders = WorkerState.objects.online_now(), TaskState.objects.holders(ids)
        outcome = self._send(
            request,
            f"{verb} {len(ids)} task(s)",
            lambda: control.revoke(ids, signal, expected=online, holders=holders),
        )
        if outcome is not None:
            TaskEvent.objects.record_actions(
                ids,
                f"{verb.lower()} requested",
                request.user.get_username(),
                timezone.now(),
                signal,
            )

    @admin.action(
        description="Revoke the selected tasks (those not started yet never run)",
        permissions=["change"],
    )
    def revoke_tasks(self, request, queryset) -> None:
        """Revoke: workers will not run these tasks."""
        self._revoke(request, queryset, None, "Revoke")

    @admin.action(
        description="Terminate the selected tasks (SIGTERM if running)", permissions=["change"]
    )
    def terminate_tasks(self, request, queryset) -> None:
        """Revoke, and send SIGTERM to the process running each task."""
        self._revoke(request, queryset, "SIGTERM", "Terminate")

    @admin.action(
        description="Kill the selected tasks (SIGKILL if running)", permissions=["change"]
    )
    def kill_tasks(self, request, queryset) -> None:
        """Revoke, and send SIGKILL to the process running each task."""
        self._revoke(request, queryset, "SIGKILL", "Kill")

    @admin.action(description="Rate limit the selected tasks' names…", permissions=["change"])
    def rate_limit_tasks(self, request, queryset) -> TemplateResponse | None:
        """Ask for a rate, then set it once per distinct task name on every worker."""
        names = list(
            queryset.exclude(name=None)
            .order_by("name")
            .values_list("name", flat=True)
            .distinct()[: MAX_RATE_LIMIT_NAMES + 1]
        )
        if len(names) > MAX_RATE_LIMIT_NAMES:
            self.message_user(
                request,
                f"The selected tasks have more than {MAX_RATE_LIMIT_NAMES} names: nothing sent. "
                "Select the tasks of fewer names (filter by name).",
                messages.ERROR,
            )
            return None
        if not names:
            self.message_user(
                request,
                "The selected tasks have no known name: nothing to limit.",
                messages.WARNING,
            )
            return None
        form = RateLimitForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            rate = form.cleaned_data["rate"]
            control = self.control_factory()
            # each name's command returns once every online worker answered, not at the timeout
            online = WorkerState.objects.online_now()
            for name in names:
                outcome = self._send(
                    request,
                    f"Rate limit {rate} for {name}",
                    lambda name=name: control.rate_limit(name, rate, expected=online),
                )
                if outcome is not None and not outcome.failed:
                    TaskLimit.objects.set_rate(
                        name, rate, request.user.get_username(), timezone.now()
                    )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Set a rate limit",
            "opts": self.model._meta,
            "form": form,
            "names": names,
            "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "action": "rate_limit_tasks",
        }
        return TemplateResponse(request, "admin/monitor/taskstate/rate_limit.html", context)
