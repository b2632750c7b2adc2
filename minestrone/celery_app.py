"""The project's Celery application, configured from Django's settings."""

import os

from celery import Celery

# Replaces the workers' `conf` and `report` remote-control replies with ones without secrets.
from minestrone import remote_control  # noqa: F401
from minestrone.countdown import whole_seconds

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minestrone.settings")


class MinestroneCelery(Celery):
    """Celery, with countdowns and ETAs under a second rounded up on quorum queues (where
    Celery 5.7 refuses them: minestrone/countdown.py)."""

    def uses_quorum_queues(self) -> bool:
        """True when one of the app's queues is a quorum queue."""
        return any(
            (queue.queue_arguments or {}).get("x-queue-type") == "quorum"
            for queue in self.amqp.queues.values()
        )

    def send_task(self, name, args=None, kwargs=None, countdown=None, eta=None, **options):
        """Celery's send_task; on quorum queues with a delay of at least one second."""
        if (countdown or eta) and self.uses_quorum_queues():
            countdown, eta = whole_seconds(countdown, eta, self.now())
        return super().send_task(name, args, kwargs, countdown=countdown, eta=eta, **options)


app = MinestroneCelery("minestrone")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
