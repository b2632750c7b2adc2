"""The admin's Dead letters page (under Tasks): the jobs RabbitMQ dead-lettered over the
delivery limit, and, for staff allowed to change tasks, a button to send one back or discard
it (POST, CSRF-checked like every admin form)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from minestrone.errors import BrokerUnreachable
from minestrone.monitor import dead_letters
from minestrone.monitor.errors import MonitorError

URL_NAME = "monitor_taskstate_dead_letters"
TEMPLATE = "admin/monitor/taskstate/dead_letters.html"


def _act(model_admin, request, action: str, task_id: str) -> None:
    who = request.user.get_username()
    try:
        if action == "retry":
            new_id = dead_letters.send_back(task_id, who)
            text, level = f"Dead letter {task_id} sent back as {new_id}.", messages.SUCCESS
        elif action == "discard":
            dead_letters.discard(task_id)
            text, level = f"Dead letter {task_id} discarded.", messages.SUCCESS
        else:
            text, level = f"Unknown action {action[:40]!r}: nothing done.", messages.ERROR
    except BrokerUnreachable as exc:
        text, level = f"Nothing done: the broker is unavailable ({exc}).", messages.ERROR
    except MonitorError as exc:
        text, level = f"Nothing done: {exc}.", messages.ERROR
    model_admin.message_user(request, text, level)


def dead_letters_view(model_admin, request) -> HttpResponse:
    """GET: the list; POST (action, task_id): send one back or discard it, then the list."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    if request.method == "POST":
        if not model_admin.has_change_permission(request):
            raise PermissionDenied
        _act(model_admin, request, request.POST.get("action", ""), request.POST.get("task_id", ""))
        return HttpResponseRedirect(reverse(f"admin:{URL_NAME}"))
    letters, total, problem = [], 0, None
    try:
        letters, total = dead_letters.listing()
    except BrokerUnreachable as exc:
        problem = f"The broker is unavailable ({exc})."
    except MonitorError as exc:
        problem = f"{str(exc)[:1].upper()}{str(exc)[1:]}."
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": "Dead letters",
        "letters": letters,
        "total": total,
        "problem": problem,
        "can_act": model_admin.has_change_permission(request),
    }
    return TemplateResponse(request, TEMPLATE, context)


def urls(model_admin) -> list:
    """The page's route, wrapped by the admin site (login, staff)."""

    def view(request):
        return dead_letters_view(model_admin, request)

    return [path("dead-letters/", model_admin.admin_site.admin_view(view), name=URL_NAME)]
