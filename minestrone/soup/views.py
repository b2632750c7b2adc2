"""The editor page that queues jobs, and the page listing what the workers hold now."""

import logging

from django.conf import settings
from django.contrib import messages
from django.db import DatabaseError
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.html import format_html
from django.views.generic import FormView, TemplateView

from minestrone.celery_app import app as celery_app
from minestrone.errors import BrokerUnreachable
from minestrone.monitor import states
from minestrone.monitor.broker import queue_depths
from minestrone.monitor.models import TaskState
from minestrone.security import client_network
from minestrone.soup import recent, throttle, visibility
from minestrone.soup.activity import ActivityInspector, KnownWorkers
from minestrone.soup.forms import EditorForm
from minestrone.soup.jobs import queue_lazy_job
from minestrone.soup.shared import Shared

log = logging.getLogger(__name__)
_known_workers = KnownWorkers()
# The most queued (sent, not yet received) tasks the active page lists from the database.
MAX_WAITING = 50
# However many visitors poll the public active page, each process asks the broker and the
# workers at most once per:
ACTIVITY_SHARED_SECONDS = 2.0


def task_url(task_id: str) -> str:
    """The monitor's page of a task (the admin's read-only view)."""
    return reverse("admin:monitor_taskstate_change", args=[task_id])


class EditorView(FormView):
    """Ask for a job name and a routing-key name, and queue the job."""

    template_name = "soup/editor.html"
    form_class = EditorForm
    success_url = reverse_lazy("soup:active")
    queue_job = staticmethod(queue_lazy_job)

    def form_valid(self, form):
        """Queue the job; show the form again with HTTP 429 (and Retry-After) beyond the
        anonymous job rate, with HTTP 503 on a broker failure."""
        name = form.cleaned_data["job_name"]
        routing_key = form.cleaned_data["routing_key"]
        wait = self._seconds_to_wait()
        if wait:
            context = self.get_context_data(form=form, retry_after=wait)
            response = self.render_to_response(context, status=429)
            response["Retry-After"] = str(wait)
            return response
        try:
            task_id = self.queue_job(name, routing_key)
        except BrokerUnreachable as exc:
            log.warning("could not queue lazy_job(%r): broker unavailable: %s", name, exc)
            context = self.get_context_data(form=form, broker_error=True)
            return self.render_to_response(context, status=503)
        messages.success(
            self.request,
            format_html(
                'Queued the job “{}” with routing key {} (task <a href="{}">{}</a>).',
                name,
                routing_key,
                task_url(task_id),
                task_id,
            ),
        )
        if not self._remember(task_id, name, routing_key):
            # The job is queued: say so here, not on the active page, which needs the database.
            context = self.get_context_data(form=self.get_form_class()(), database_error=True)
            return self.render_to_response(context)
        return super().form_valid(form)

    def _seconds_to_wait(self) -> int:
        """0 when the visitor may queue a job now, else the seconds until they may: anonymous
        clients are held to SOUP_ANONYMOUS_JOB_RATE (not enforced while the database is out)."""
        user = getattr(self.request, "user", None)
        try:
            if user is not None and user.is_authenticated:  # reads the session: the database
                return 0
            return throttle.seconds_to_wait(client_network(self.request), timezone.now())
        except DatabaseError as exc:
            log.warning("job rate not checked, database unavailable: %s", exc)
            return 0

    def _remember(self, task_id: str, name: str, routing_key: str) -> bool:
        """Keep the job in the visitor's session; False (session untouched) when the database
        does not answer."""
        session = self.request.session
        try:
            recent.remember(session, task_id, name, routing_key, timezone.now())
            session.save()  # now, so that a failure is caught here and not after the response
        except DatabaseError as exc:
            log.warning("queued %s but could not keep it in the session: %s", task_id, exc)
            session.modified = False  # nothing to save at the end of the request
            return False
        return True


def _default_inspector() -> ActivityInspector:
    return ActivityInspector(
        celery_app,
        settings.SOUP_INSPECT_TIMEOUT,
        _known_workers,
        depths=lambda: queue_depths(celery_app),
    )


def _read_activity():
    return _default_inspector()()


shared_activity = Shared(lambda: _read_activity(), ACTIVITY_SHARED_SECONDS)


class ActiveTasksView(TemplateView):
    """List what every worker holds (running, reserved, scheduled), the queues' depths, the
    visitor's recent jobs and the tasks still waiting in the queue; a job's argument only to
    the session that queued it (or staff, ``visibility``)."""

    template_name = "soup/active.html"
    partial_template_name = "soup/_activity.html"
    inspector = None

    def get_inspector(self):
        """Return the callable asked for the activity: the snapshot this process shares for
        ACTIVITY_SHARED_SECONDS (a fake one in tests)."""
        if self.inspector is not None:
            return self.inspector
        return shared_activity

    def get_template_names(self) -> list[str]:
        """The fragment alone when htmx polls, else the whole page."""
        if getattr(self.request, "htmx", False):
            return [self.partial_template_name]
        return [self.template_name]

    def get(self, request, *args, **kwargs):
        """Render the activity; HTTP 503 when the broker is unreachable."""
        may_read = visibility.argument_reader(request)
        activity = visibility.for_visitor(self.get_inspector()(), may_read)
        now = timezone.now()
        jobs = recent.recall(request.session, now)
        recorded = dict(
            TaskState.objects.filter(pk__in=[job.task_id for job in jobs]).values_list(
                "task_id", "state"
            )
        )
        jobs = [
            recent.locate(job, activity.status_of(job.task_id), recorded.get(job.task_id))
            for job in jobs
        ]
        waiting = visibility.hide_waiting_arguments(
            TaskState.objects.visible()
            .filter(state=states.PENDING, tstamp__gte=now - recent.KEEP_FOR * 24)
            .order_by("-tstamp")
            .only("task_id", "name", "args", "routing_key", "tstamp")[:MAX_WAITING],
            may_read,
        )
        context = self.get_context_data(
            activity=activity, jobs=jobs, waiting=waiting, max_waiting=MAX_WAITING, **kwargs
        )
        status = 503 if activity.broker_error and not getattr(request, "htmx", False) else 200
        return self.render_to_response(context, status=status)
