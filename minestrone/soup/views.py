"""The editor page that queues jobs, and the page listing what the workers run now."""

import logging

from django.conf import settings
from django.contrib import messages
from django.urls import reverse_lazy
from django.views.generic import FormView, TemplateView

from minestrone.celery_app import app as celery_app
from minestrone.soup.activity import ActivityInspector, KnownWorkers
from minestrone.soup.forms import EditorForm
from minestrone.soup.jobs import BrokerUnavailable, queue_lazy_job

log = logging.getLogger(__name__)
_known_workers = KnownWorkers()


class EditorView(FormView):
    """Ask for a job name and a routing-key name, and queue the job."""

    template_name = "soup/editor.html"
    form_class = EditorForm
    success_url = reverse_lazy("soup:active")
    queue_job = staticmethod(queue_lazy_job)

    def form_valid(self, form):
        """Queue the job; on a broker failure show the form again with HTTP 503."""
        name = form.cleaned_data["job_name"]
        routing_key = form.cleaned_data["routing_key"]
        try:
            task_id = self.queue_job(name, routing_key)
        except BrokerUnavailable as exc:
            log.warning("could not queue lazy_job(%r): broker unavailable: %s", name, exc)
            context = self.get_context_data(form=form, broker_error=True)
            return self.render_to_response(context, status=503)
        messages.success(
            self.request,
            f"Queued the job “{name}” with routing key {routing_key} (task {task_id}).",
        )
        return super().form_valid(form)


class ActiveTasksView(TemplateView):
    """List the tasks every worker is running now."""

    template_name = "soup/active.html"
    inspector = None

    def get_inspector(self):
        """Return the callable asked for the activity (a fake one in tests)."""
        if self.inspector is not None:
            return self.inspector
        return ActivityInspector(celery_app, settings.SOUP_INSPECT_TIMEOUT, _known_workers)

    def get(self, request, *args, **kwargs):
        """Render the activity; HTTP 503 when the broker is unreachable."""
        activity = self.get_inspector()()
        context = self.get_context_data(activity=activity, **kwargs)
        status = 503 if activity.broker_error else 200
        return self.render_to_response(context, status=status)
