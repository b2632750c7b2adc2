"""The API's routes, Flower's names under /api/."""

from django.urls import path

from minestrone.monitor.api import action_views as act
from minestrone.monitor.api import dead_letter_views as dead
from minestrone.monitor.api import read_views as read
from minestrone.monitor.api.openapi import openapi_view

app_name = "api"

urlpatterns = [
    path("openapi.json", openapi_view, name="openapi"),
    path("workers", read.workers, name="workers"),
    path("tasks", read.tasks, name="tasks"),
    path("task/info/<str:task_id>", read.task_info, name="task-info"),
    path("task/types", read.task_types, name="task-types"),
    path("queues/length", read.queue_lengths, name="queues-length"),
    path("dead-letters", dead.listing, name="dead-letters"),
    path("dead-letters/<str:task_id>/retry", dead.retry, name="dead-letter-retry"),
    path("dead-letters/<str:task_id>/discard", dead.discard, name="dead-letter-discard"),
    path("task/async-apply/<str:name>", act.async_apply, name="async-apply"),
    path("task/retry/<str:task_id>", act.retry_task, name="retry"),
    path("task/revoke/<str:task_id>", act.revoke, name="revoke"),
    path("task/rate-limit/<str:name>", act.rate_limit, name="rate-limit"),
    path("task/timeout/<str:name>", act.timeout, name="timeout"),
    path("worker/shutdown/<str:hostname>", act.shutdown, name="shutdown"),
    path("worker/pool/grow/<str:hostname>", act.pool_grow, name="pool-grow"),
    path("worker/pool/shrink/<str:hostname>", act.pool_shrink, name="pool-shrink"),
    path("worker/pool/autoscale/<str:hostname>", act.autoscale, name="autoscale"),
    path("worker/queue/add-consumer/<str:hostname>", act.add_consumer, name="add-consumer"),
    path(
        "worker/queue/cancel-consumer/<str:hostname>", act.cancel_consumer, name="cancel-consumer"
    ),
]
