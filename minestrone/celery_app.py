"""The project's Celery application, configured from Django's settings."""

import os

from celery import Celery

# Replaces the workers' `conf` and `report` remote-control replies with ones without secrets.
from minestrone import remote_control  # noqa: F401
from minestrone.countdown import (
    declare_delay_routes,
    is_delayed,
    is_quorum,
    keyed_queue,
    whole_seconds,
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minestrone.settings")
# What of Celery's publish retry policy kombu's ensure_connection takes.
RETRY_KEYS = ("max_retries", "interval_start", "interval_step", "interval_max")


class MinestroneCelery(Celery):
    """Celery, with countdowns and ETAs on quorum queues (minestrone/countdown.py): under a
    second rounded up (Celery 5.7 refuses them), and keeping the routing key they were sent
    with, once the delay exchanges exist."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # (broker URL, queue name) of the delay routes this process declared; a test that
        # removes them from the broker forgets them here too
        self.declared_delay_routes: set[tuple[str, str]] = set()

    def prepare_delay_routes(self, queue) -> None:  # noqa: ANN001 - a kombu Queue
        """Declare the delay routes to ``queue`` (countdown.declare_delay_routes), once per
        process and queue; an unreachable broker fails as a publish would, after the same
        retries."""
        declared = (str(self.conf.broker_write_url or self.conf.broker_url), queue.name)
        if declared in self.declared_delay_routes:
            return
        policy = self.conf.task_publish_retry_policy or {}
        with self.connection_for_write() as connection:
            connection.ensure_connection(
                **{key: value for key, value in policy.items() if key in RETRY_KEYS}
            )
            kind = self.conf.broker_native_delayed_delivery_queue_type
            declare_delay_routes(connection, queue, kind)
        self.declared_delay_routes.add(declared)

    def uses_quorum_queues(self) -> bool:
        """True when one of the app's queues is a quorum queue."""
        return any(is_quorum(queue) for queue in self.amqp.queues.values())

    def send_task(self, name, args=None, kwargs=None, countdown=None, eta=None, **options):
        """Celery's send_task; to a quorum queue with a delay of at least one second, once
        the delay routes exist and under the job's own routing key."""
        if (countdown or eta) and self.uses_quorum_queues():
            now = self.now()
            countdown, eta = whole_seconds(countdown, eta, now)
            queue = None
            if is_delayed(countdown, eta, now):
                queue = self.amqp.router.route(dict(options), name, args, kwargs).get("queue")
            if queue is not None and is_quorum(queue):
                self.prepare_delay_routes(queue)
                key = options.get("routing_key")
                if key and options.get("queue") is None:  # Celery reads the queue's key, then
                    options["queue"] = keyed_queue(queue, key)  # (the job delayed) drops it
        return super().send_task(name, args, kwargs, countdown=countdown, eta=eta, **options)


app = MinestroneCelery("minestrone")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
