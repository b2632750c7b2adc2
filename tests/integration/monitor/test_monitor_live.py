"""The monitor on real servers: a worker started with `manage.py celeryd -E …`, the camera with
`manage.py celerycam`, PostgreSQL behind the admin."""

import re
import signal

import pytest

from minestrone.celery_app import app as celery_app
from minestrone.monitor.models import TaskState, WorkerState
from minestrone.queues import QUORUM_QUEUE
from tests.integration.monitor.conftest import (
    send,
    task_name,
    wait_for_states,
    wait_until,
    worker_online,
)
from tests.pace import within

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TASKS = "/admin/monitor/taskstate/"
WORKERS = "/admin/monitor/workerstate/"


def test_tasks_and_workers_are_recorded_with_final_states(
    camera, monitored_worker, admin_client, client
):
    camera()
    worker = monitored_worker("w1")
    ok = send("add", 2, 3, routing_key="tasks.math.add")
    failed = send("boom", "no soup", routing_key="tasks.math.boom")
    retried = send("flaky", routing_key="tasks.flaky")
    # two long tasks take both pool processes; the third waits in the queue and is revoked
    busy = [send("sleepy", 3, routing_key="tasks.slow") for _ in range(2)]
    worker.wait_for_log("sleepy", timeout=30)
    victim = send("sleepy", 3, routing_key="tasks.slow")
    celery_app.control.revoke(victim)

    wait_for_states(
        {
            ok: "SUCCESS",
            failed: "FAILURE",
            retried: "SUCCESS",
            victim: "REVOKED",
            busy[0]: "SUCCESS",
            busy[1]: "SUCCESS",
        }
    )
    # the client's task-sent event (its routing key) may reach the camera after the retry's
    # own task-sent (through the delay exchanges) and even after the task finished
    wait_until(
        lambda: TaskState.objects.filter(pk=retried, routing_key="tasks.flaky").exists(),
        what="the retried task's routing key, tasks.flaky",
    )
    rows = {row.task_id: row for row in TaskState.objects.all()}
    assert rows[ok].name == task_name("add")
    assert (rows[ok].args, rows[ok].result) == ("[2, 3]", "5")
    assert (rows[ok].routing_key, rows[ok].exchange, rows[ok].queue) == (
        "tasks.math.add",
        "default",
        QUORUM_QUEUE,
    )
    assert rows[ok].worker == "w1@integration"
    assert rows[ok].runtime is not None
    assert None not in (rows[ok].sent, rows[ok].received, rows[ok].started, rows[ok].finished)
    assert rows[ok].received <= rows[ok].started <= rows[ok].finished
    # the client stamps task-sent after publishing: the worker may receive the task first
    assert abs((rows[ok].received - rows[ok].sent).total_seconds()) < 2
    assert "ValueError('no soup')" in rows[failed].result
    assert "ValueError: no soup" in rows[failed].traceback
    assert rows[retried].retries == 1
    assert rows[retried].result == "'second attempt'"
    # the traceback of the first attempt's retry is not the success's
    assert rows[retried].traceback is None
    assert rows[retried].worker == "w1@integration"
    assert rows[victim].routing_key == "tasks.slow"

    # the worker: ONLINE with its details
    wait_until(lambda: worker_online("w1@integration"), what="w1 ONLINE")
    row = WorkerState.objects.get(hostname="w1@integration")
    assert row.sw_ident == "py-celery"
    assert row.processed is not None

    # the admin pages, on PostgreSQL
    page = admin_client.get(TASKS).content.decode()
    for task_id in (ok, failed, retried, victim):
        assert task_id in page
    assert ">FAILURE<" in page and ">REVOKED<" in page
    assert "No recent events." not in page
    listed = admin_client.get(f"{TASKS}?routing_key=tasks.math.boom").context["cl"].result_list
    assert [t.task_id for t in listed] == [failed]
    assert "?routing_key=tasks.flaky" in page  # the filter's choices, from PostgreSQL
    assert "?worker=w1%40integration" in page
    detail = admin_client.get(f"{TASKS}{failed}/change/").content.decode()
    assert re.search(
        r'<pre class="monitor-pre"[^>]*>Traceback.*ValueError: no soup\s*</pre>', detail, re.S
    )
    assert ">ONLINE<" in admin_client.get(WORKERS).content.decode()
    response = client.get(TASKS)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")

    # stopped, the worker goes OFFLINE
    assert worker.stop(signal.SIGTERM) == 0
    wait_until(
        lambda: (
            WorkerState.objects.filter(hostname="w1@integration").exists()
            and not worker_online("w1@integration")
        ),
        what="w1 OFFLINE",
    )
    assert ">OFFLINE<" in admin_client.get(WORKERS).content.decode()


def test_sigterm_writes_the_last_snapshot(camera, monitored_worker):
    cam = camera("-F", "3600", "--cleanup-interval", "3600")  # no periodic snapshot in the test
    worker = monitored_worker("w2")
    ids = [send("add", n, n) for n in range(20)]
    wait_until(lambda: worker.log().count("succeeded in") >= 20, what="20 tasks run")
    wait_until(lambda: "w2@integration" in str(celery_app.control.ping(timeout=0.5)))
    assert TaskState.objects.count() == 0
    assert cam.stop(signal.SIGTERM) == 0
    assert task_states(ids) == dict.fromkeys(ids, "SUCCESS")
    assert "camera stopped" in cam.log()


def task_states(ids):
    return dict(TaskState.objects.filter(pk__in=ids).values_list("task_id", "state"))


def act(client, url, action, ids, **extra):
    response = client.post(url, {"action": action, "_selected_action": ids, **extra}, follow=True)
    assert response.status_code == 200
    return [str(m) for m in response.context["messages"]]


def test_admin_actions_reach_the_real_worker(camera, monitored_worker, admin_client):
    camera()
    worker = monitored_worker("w3")

    # terminate a running task
    running = send("sleepy", 60, routing_key="tasks.slow")
    wait_for_states({running: "STARTED"})
    [message] = act(admin_client, TASKS, "terminate_tasks", [running])
    assert message.startswith("Terminate 1 task(s): w3@integration: ")
    wait_for_states({running: "REVOKED"})

    # revoke a task waiting behind two long ones
    # long enough for the revoke to reach the worker before they end, however loaded it is
    busy = [send("sleepy", within(4), routing_key="tasks.slow") for _ in range(2)]
    waiting = send("add", 1, 1, routing_key="tasks.waiting")
    wait_until(lambda: TaskState.objects.filter(pk=waiting).exists(), what="the waiting task")
    [message] = act(admin_client, TASKS, "revoke_tasks", [waiting])
    assert f"w3@integration: tasks {{'{waiting}'}} flagged as revoked" in message
    wait_for_states(
        {waiting: "REVOKED", busy[0]: "SUCCESS", busy[1]: "SUCCESS"}, timeout=within(4) + 40
    )

    # rate limit: once per name, applied by the worker
    done = [send("add", 1, 2), send("add", 3, 4)]
    wait_for_states(dict.fromkeys(done, "SUCCESS"))
    messages = act(admin_client, TASKS, "rate_limit_tasks", done, apply="yes", rate="10/m")
    assert messages == [
        f"Rate limit 10/m for {task_name('add')}: w3@integration: new rate limit set successfully."
    ]
    registered = celery_app.control.inspect(
        destination=["w3@integration"], timeout=within(5)
    ).registered("rate_limit")
    assert f"{task_name('add')} [rate_limit=10/m]" in registered["w3@integration"]

    # the worker actions
    host = str(WorkerState.objects.get(hostname="w3@integration").pk)
    # Celery 5.7 answers "already disabled" to a worker whose events were switched on by -E,
    # and changes nothing: the message says so plainly
    [message] = act(admin_client, WORKERS, "disable_events", [host])
    assert message.startswith("Disable events: w3@integration: no effect:")
    [message] = act(admin_client, WORKERS, "enable_events", [host])
    assert message.startswith("Enable events: w3@integration: no change:")
    [message] = act(admin_client, WORKERS, "shutdown_workers", [host])
    assert message.startswith("Shut down w3@integration: sent")
    wait_until(lambda: worker.process.poll() is not None, what="the worker to exit")
    assert re.search(r"shutdown|Got shutdown from remote", worker.log())
