"""The read endpoints: Flower's shapes, from the database, as the OpenAPI document says."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone
from openapi_spec_validator import validate

from minestrone.monitor.api.openapi import DOCUMENT
from minestrone.monitor.models import QueueSample, TaskState
from tests.unit.monitor.api.openapi_check import check
from tests.unit.monitor.test_admin import add_task, add_worker

pytestmark = pytest.mark.django_db


def test_the_document_is_valid_openapi():
    validate(DOCUMENT)  # against the OpenAPI 3.1 schema that openapi-spec-validator ships


def test_the_document_is_served_without_login():
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200 and response.json() == DOCUMENT


def test_every_route_is_documented():
    from minestrone.monitor.api.urls import urlpatterns

    routes = {"/api/" + str(p.pattern).replace("<str:", "{").replace(">", "}") for p in urlpatterns}
    assert routes - {"/api/openapi.json"} == set(DOCUMENT["paths"])


def test_workers(api):
    add_worker("w1@host")
    add_worker("w2@host", online=False)
    body = check(api.get("/api/workers"), "/api/workers")
    assert list(body) == ["w1@host", "w2@host"]
    assert body["w1@host"]["status"] is True and body["w2@host"]["status"] is False
    assert body["w1@host"]["processed"] == 7 and body["w1@host"]["sw_ver"] == "5.7.0"
    status = check(api.get("/api/workers", {"status": "true"}), "/api/workers")
    assert status == {"w1@host": True, "w2@host": False}
    one = check(api.get("/api/workers", {"workername": "w2@host"}), "/api/workers")
    assert list(one) == ["w2@host"]
    missing = api.get("/api/workers", {"workername": "nope"})
    assert missing.status_code == 404 and "nope" in missing.json()["error"]


def test_tasks_newest_first_with_limit_and_offset(api):
    for n in range(5):
        add_task(f"t-{n}", ago=timedelta(minutes=10 - n), name="app.add")
    body = check(api.get("/api/tasks"), "/api/tasks")
    assert list(body) == ["t-4", "t-3", "t-2", "t-1", "t-0"]
    page = check(api.get("/api/tasks", {"limit": 2, "offset": 1}), "/api/tasks")
    assert list(page) == ["t-3", "t-2"]


def test_tasks_filters(api):
    now = timezone.now()
    add_task("a", "FAILURE", name="app.add", worker="w1", routing_key="tasks.a", result="boom")
    add_task("b", "SUCCESS", name="app.mul", worker="w2", routing_key="tasks.b")
    add_task("c", "SUCCESS", name="app.add", worker="w2", received=now - timedelta(hours=2))
    add_task("d", "STARTED", name="app.add", started=now - timedelta(minutes=5))
    cases = {
        "state=FAILURE": {"state": "FAILURE"},
        "taskname": {"taskname": "app.mul"},
        "workername": {"workername": "w2"},
        "routing_key": {"routing_key": "tasks.a"},
        "received before": {"received_end": (now - timedelta(hours=1)).isoformat()},
        "started after": {"started_start": str((now - timedelta(minutes=6)).timestamp())},
    }
    expected = {
        "state=FAILURE": ["a"],
        "taskname": ["b"],
        "workername": ["b", "c"],
        "routing_key": ["a"],
        "received before": ["c"],
        "started after": ["d"],
    }
    for case, params in cases.items():
        body = check(api.get("/api/tasks", params), "/api/tasks")
        assert sorted(body) == expected[case], case
    failed = api.get("/api/tasks", {"state": "FAILURE"}).json()["a"]
    assert failed["exception"] == "boom" and failed["result"] is None
    assert failed["failed"] is not None and failed["succeeded"] is None


def test_flower_time_format(api):
    add_task("old", received=datetime(2026, 1, 1, 10, 0, tzinfo=UTC))
    add_task("new", received=datetime(2026, 1, 1, 12, 0, tzinfo=UTC))
    body = api.get("/api/tasks", {"received_start": "2026-01-01 11:00"}).json()
    assert list(body) == ["new"]


def test_hidden_tasks_are_not_listed(api):
    add_task("shown")
    add_task("gone")
    TaskState.objects.filter(pk="gone").update(hidden=True)
    assert list(api.get("/api/tasks").json()) == ["shown"]
    assert api.get("/api/task/info/gone").status_code == 404


def test_task_info(api):
    add_task(
        "t-1",
        "SUCCESS",
        name="app.add",
        args="(2, 3)",
        kwargs="{}",
        result="5",
        worker="w1@host",
        runtime=0.5,
        routing_key="tasks.add",
    )
    body = check(api.get("/api/task/info/t-1"), "/api/task/info/{task_id}")
    assert body["uuid"] == "t-1" and body["state"] == "SUCCESS" and body["result"] == "5"
    assert body["args"] == "(2, 3)" and body["worker"] == "w1@host" and body["runtime"] == 0.5
    assert body["succeeded"] == body["timestamp"]
    missing = api.get("/api/task/info/nope")
    check(missing, "/api/task/info/{task_id}")
    assert missing.status_code == 404 and missing.json() == {"error": "no task with id 'nope'"}


def test_task_types(api):
    add_task("a", name="app.mul")
    add_task("b", name="app.add")
    add_task("c", name="app.add")
    body = check(api.get("/api/task/types"), "/api/task/types")
    assert body == {"task-types": ["app.add", "app.mul"]}


def test_queue_lengths_are_the_latest_sample(api):
    assert check(api.get("/api/queues/length"), "/api/queues/length") == {"active_queues": []}
    old, new = timezone.now() - timedelta(minutes=1), timezone.now()
    QueueSample.objects.create(queue="default", at=old, ready=9, consumers=1)
    QueueSample.objects.create(queue="default", at=new, ready=3, consumers=2, unacked=1)
    QueueSample.objects.create(queue="other", at=new, ready=0, consumers=0)
    body = check(api.get("/api/queues/length"), "/api/queues/length")
    assert [(q["name"], q["messages"], q["consumers"]) for q in body["active_queues"]] == [
        ("default", 3, 2),
        ("other", 0, 0),
    ]


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"state": "DONE"}, "state"),
        ({"received_start": "yesterday"}, "received_start"),
        ({"started_end": "9999999999999"}, "started_end"),
        ({"sort_by": "name"}, "sort_by"),
        ({"taskname": "x" * 300}, "taskname"),
    ],
)
def test_bad_parameters_are_400_naming_them(api, params, parameter):
    response = api.get("/api/tasks", params)
    assert response.status_code == 400
    body = check(response, "/api/tasks")
    assert body["parameter"] == parameter and body["error"].startswith(f"{parameter}: ")
