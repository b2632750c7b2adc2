"""Queued work on real servers: what the workers hold and the queue depths on /active/, plain
replies for actions that change nothing, and how a revoked task ended, in its timeline."""

import pytest

from minestrone.celery_app import app as celery_app
from minestrone.monitor.broker import queue_depths
from minestrone.monitor.control import RemoteControl
from minestrone.monitor.models import TaskEvent, TaskState
from minestrone.queues import QUORUM_QUEUE
from minestrone.soup.activity import ActivityInspector
from tests.integration.monitor.conftest import send, wait_for_states, wait_until
from tests.pace import within

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_queued_work_is_visible_and_no_op_actions_say_so(camera, monitored_worker, client):
    camera()
    worker = monitored_worker("q1")
    host = "q1@integration"
    # a countdown task waits in RabbitMQ's delay queues (quorum queues: no worker holds it);
    # two long ones fill the worker's two processes: the next three wait in the queue
    later = send("add", 9, 9, routing_key="tasks.later", countdown=120)
    busy = [send("sleepy", 20, routing_key="tasks.slow") for _ in range(2)]
    wait_for_states(dict.fromkeys(busy, "STARTED"))
    waiting = [send("add", n, n, routing_key="tasks.waiting") for n in range(3)]

    inspector = ActivityInspector(celery_app, 2.0, depths=lambda: queue_depths(celery_app))

    seen = []

    def settled():
        seen[:] = [inspector()]
        return seen[0] if len(seen[0].tasks) == 2 else None

    activity = wait_until(settled, what=f"2 running tasks: {seen}")
    assert sorted(task.task_id for task in activity.tasks) == sorted(busy)
    assert activity.scheduled == [] and later not in worker.log()
    [default] = [queue for queue in activity.queues if queue.name == QUORUM_QUEUE]
    assert (default.ready, default.consumers) == (3, 1)

    page = client.get("/active/").content.decode()
    for task_id in (*busy, later):
        assert f'data-task-id="{task_id}"' in page
    # the camera's task-sent records list the three still in the queue
    wait_until(
        lambda: all(
            f'data-task-id="{t}"' in client.get("/active/").content.decode() for t in waiting
        ),
        what="the waiting tasks on /active/",
    )

    control = RemoteControl(celery_app.control, within(5))
    # terminate a running task: how it ended is recorded
    outcome = control.revoke([busy[0]], "SIGTERM", expected=1)  # the one worker
    assert outcome.replies[host] == f"stopped {busy[0]}"
    # terminate a finished task: nothing to stop, said so
    wait_for_states(dict.fromkeys(waiting, "SUCCESS"))
    outcome = control.revoke([waiting[0]], "SIGTERM", expected=1)
    assert outcome.changed_nothing
    assert outcome.replies[host].startswith("nothing to stop")
    # disable events on a worker started with -E: no effect, said so
    outcome = control.disable_events([host])
    assert outcome.changed_nothing and "restart it without -E" in outcome.replies[host]
    wait_for_states({busy[0]: "REVOKED", busy[1]: "SUCCESS"})
    assert TaskState.objects.get(pk=busy[0]).revocation == "terminated (SIGTERM)"
    kinds = set(TaskEvent.objects.filter(task_id=busy[0]).values_list("kind", flat=True))
    assert {"sent", "received", "started", "revoked"} <= kinds
    assert "No result backend" not in worker.log()
