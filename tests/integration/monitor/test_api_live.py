"""The API on real servers: a token's requests reach a real worker through RabbitMQ, the camera
records the outcome in PostgreSQL, and the API reads it back; actions are in the timeline."""

import json

import pytest
from django.contrib.auth.models import User
from django.test import Client

import tests.integration.monitor.tasks  # noqa: F401 (this process registers the test tasks)
from minestrone.monitor.api.tokens import ApiToken
from minestrone.monitor.models import TaskEvent, TaskLimit, TaskState, WorkerState
from tests.integration.monitor.conftest import task_name, wait_for_states, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
HOST = "api1@integration"


class Api:
    """Django's client with a bearer token."""

    def __init__(self, token: str):
        self.client = Client(enforce_csrf_checks=True)
        self.auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def get(self, path: str, **params) -> dict:
        response = self.client.get(path, params, **self.auth)
        assert response.status_code == 200, response.content
        return response.json()

    def post(self, path: str, body: dict | None = None) -> dict:
        response = self.client.post(
            path, json.dumps(body or {}), content_type="application/json", **self.auth
        )
        assert response.status_code == 200, response.content
        return response.json()


def apply(api: Api, short: str, *args) -> str:
    body = {"args": list(args), "routing_key": "tasks.monitor"}
    return api.post(f"/api/task/async-apply/{task_name(short)}", body)["task-id"]


def test_api_drives_a_real_worker(camera, monitored_worker):
    camera()  # the replies are waited for at the machine's pace (conftest)
    worker = monitored_worker("api1")
    owner = User.objects.create_superuser("ops", password="pw")
    _, token = ApiToken.objects.issue(owner, "integration")
    api = Api(token)
    wait_until(lambda: WorkerState.objects.filter(hostname=HOST).exists(), what="the worker row")
    assert api.get("/api/workers", status="true") == {HOST: True}

    # send, run, record, read back; the sending is in the timeline with the token's owner
    added = apply(api, "add", 2, 3)
    failed = apply(api, "boom", "on purpose")
    wait_for_states({added: "SUCCESS", failed: "FAILURE"})
    info = api.get(f"/api/task/info/{added}")
    assert (info["result"], info["worker"], info["routing_key"]) == ("5", HOST, "tasks.monitor")
    assert api.get("/api/tasks", state="FAILURE", limit=1) == {
        failed: api.get(f"/api/task/info/{failed}")
    }
    sent = TaskEvent.objects.get(task_id=added, kind="sent from the API")
    assert sent.detail.startswith("by ops (API token ")
    assert task_name("add") in api.get("/api/task/types")["task-types"]

    # retry: the same task again, a new id, linked both ways
    again = api.post(f"/api/task/retry/{failed}")["task-id"]
    wait_for_states({again: "FAILURE"})
    assert api.get(f"/api/task/info/{failed}")["retried_as"] == [again]
    assert api.get(f"/api/task/info/{again}")["retry_of"] == failed
    assert TaskState.objects.get(pk=again).args == TaskState.objects.get(pk=failed).args

    # terminate a running task
    sleeping = apply(api, "sleepy", 60)
    wait_for_states({sleeping: "STARTED"})
    revoked = api.post(f"/api/task/revoke/{sleeping}", {"terminate": True})
    assert HOST in revoked["replies"]
    wait_for_states({sleeping: "REVOKED"})
    assert TaskState.objects.get(pk=sleeping).revocation == "terminated (SIGTERM)"
    asked = TaskEvent.objects.get(task_id=sleeping, kind="terminate requested")
    assert asked.detail.startswith("by ops (API token ") and asked.detail.endswith("(SIGTERM)")

    # limits and pool commands, with the worker's real replies
    limited = api.post(f"/api/task/rate-limit/{task_name('add')}", {"ratelimit": "7/m"})
    assert "new rate limit set successfully" in limited["replies"][HOST]
    assert TaskLimit.objects.get(name=task_name("add")).changed_by.startswith("ops (API token ")
    assert api.post(f"/api/worker/pool/grow/{HOST}", {"n": 1})["replies"][HOST] == (
        "pool will grow"
    )
    assert api.post(f"/api/worker/pool/shrink/{HOST}")["replies"][HOST] == "pool will shrink"
    consumer = api.post(f"/api/worker/queue/add-consumer/{HOST}", {"queue": "reports"})
    assert consumer["replies"][HOST] == "add consumer reports"
    cancelled = api.post(f"/api/worker/queue/cancel-consumer/{HOST}", {"queue": "reports"})
    assert cancelled["replies"][HOST] == "no longer consuming from reports"

    # the worker shuts down when asked
    api.post(f"/api/worker/shutdown/{HOST}")
    worker.process.wait(timeout=60)
