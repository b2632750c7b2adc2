"""The monitor's own pages: the dashboard (staff who may view tasks) and the Prometheus metrics
(such staff, or a bearer token)."""

from __future__ import annotations

import hmac

from django.contrib.admin.views.decorators import staff_member_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST

from minestrone.errors import BrokerUnreachable
from minestrone.monitor import charts, metrics, queue_wait, svg
from minestrone.monitor.conf import setting
from minestrone.monitor.display import STATE_COLORS

STATE_FILL = {state: colors[0] for state, colors in STATE_COLORS.items()}


def _broker_depths():
    from minestrone.celery_app import app
    from minestrone.monitor.broker import queue_depths

    return queue_depths(app)


# The monitor's pages show what the Tasks list shows (names, failures): the same permission.
VIEW_PERMISSION = "monitor.view_taskstate"


def may_view(user) -> bool:
    """True for an active staff user allowed to view the Tasks list."""
    return user.is_active and user.is_staff and user.has_perm(VIEW_PERMISSION)


def _token_ok(request) -> bool:
    token = setting("METRICS_TOKEN")
    header = request.headers.get("Authorization", "")
    if not token or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header.removeprefix("Bearer ").encode(), str(token).encode())


def metrics_view(request) -> HttpResponse:
    """Prometheus' text format, for staff who may view tasks, or a bearer token."""
    if not may_view(request.user) and not _token_ok(request):
        return HttpResponse(
            "Forbidden: log in as staff allowed to view tasks, or send “Authorization: Bearer "
            "<token>” with the token set in MONITOR_METRICS_TOKEN.\n",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    body = metrics.render(timezone.now(), depths=_broker_depths)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


# However many dashboards poll, each process computes a window's charts at most once per:
DASHBOARD_CACHE_SECONDS = {"hour": 5, "day": 60}
# ... and asks the management API for the broker's nodes and queues at most once per:
BROKER_CACHE_SECONDS = 5


def broker_context() -> dict:
    """The broker's nodes and where each queue lives (leader, members online), when the
    management API is configured (MONITOR_BROKER_API_URL); else nothing."""
    if not setting("BROKER_API_URL"):
        return {}
    key = "minestrone.monitor.dashboard.broker"
    context = cache.get(key)
    if context is None:
        try:
            depths = _broker_depths()
            context = {
                "broker_nodes": list(depths.nodes),
                "queue_placement": [d for d in depths if not d.missing and d.leader],
                "broker_api_error": depths.api_error,
            }
        except BrokerUnreachable as exc:
            context = {"broker_error": str(exc)}
        cache.set(key, context, BROKER_CACHE_SECONDS)
    return context


def dashboard_context(window: charts.Window, now) -> dict:
    """The dashboard's charts and tables for the window ending now."""
    periods = window.periods(now)
    counts = charts.period_counts(window, now)
    return {
        "computed": now,
        "by_state": svg.stacked_bars(counts["state"], periods, STATE_FILL, "tasks by state"),
        "by_name": svg.stacked_bars(counts["name"], periods, label="tasks by name"),
        "by_worker": svg.stacked_bars(counts["worker"], periods, label="finished per worker"),
        "by_queue": svg.stacked_bars(
            charts.queue_depth(window, now), periods, label="messages ready per queue"
        ),
        "by_queue_unacked": _unacked_chart(window, now, periods),
        "runtimes": charts.runtime_percentiles(window, now),
        # the last hour's waits whatever the window (a day's would read a day of rows)
        "queue_waits": queue_wait.percentiles(charts.WINDOWS["hour"].start(now), now),
        "failures": charts.recent_failures(window, now),
    }


def _unacked_chart(window: charts.Window, now, periods):
    """The chart of unacknowledged messages per queue, or None when no sample knows them
    (the queues were read by passive declare, not from the management API)."""
    series = charts.queue_depth(window, now, "unacked")
    if not series:
        return None
    return svg.stacked_bars(series, periods, label="messages unacknowledged per queue")


@staff_member_required
def dashboard_view(request) -> HttpResponse:
    """Tasks per period by state and by name, runtime percentiles, failures and throughput
    per worker, for the last hour or day; the broker's nodes and queues' placement."""
    if not may_view(request.user):
        raise PermissionDenied
    window = charts.WINDOWS.get(request.GET.get("window", "hour"), charts.WINDOWS["hour"])
    key = f"minestrone.monitor.dashboard.{window.name}"
    context = cache.get(key)
    if context is None:
        context = dashboard_context(window, timezone.now())
        cache.set(key, context, DASHBOARD_CACHE_SECONDS[window.name])
    context = {**context, **broker_context(), "windows": list(charts.WINDOWS), "window": window}
    htmx = getattr(request, "htmx", False)
    template = "monitor/_dashboard.html" if htmx else "monitor/dashboard.html"
    return render(request, template, context)
