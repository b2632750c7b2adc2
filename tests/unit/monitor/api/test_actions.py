"""The actions: the admin's remote control, answered as the document says, recorded with who."""

import json

import pytest
from django.test import override_settings
from kombu.exceptions import OperationalError

from minestrone.celery_app import app
from minestrone.monitor import sending
from minestrone.monitor.models import TaskEvent, TaskLimit
from tests.unit.monitor.api.openapi_check import check
from tests.unit.monitor.test_admin import add_task, add_worker

pytestmark = pytest.mark.django_db
LAZY = "minestrone.soup.tasks.lazy_job"


@pytest.fixture
def sent(monkeypatch):
    """The tasks published (the in-memory broker would keep them; this records how)."""
    calls = []
    assert sending.registered(LAZY)  # autodiscovers the project's tasks
    task = app.tasks[LAZY]

    class Result:
        id = "new-task-id"

    def apply_async(args=None, kwargs=None, **options):
        calls.append((args, kwargs, options))
        return Result()

    monkeypatch.setattr(task, "apply_async", apply_async)
    return calls


def test_async_apply_sends_a_registered_task(api, sent):
    response = api.post(
        f"/api/task/async-apply/{LAZY}",
        json.dumps({"args": ["soup"], "kwargs": {}, "routing_key": "tasks.soup", "countdown": 2}),
        content_type="application/json",
    )
    body = check(response, "/api/task/async-apply/{name}", "POST")
    assert body == {"task-id": "new-task-id", "state": "PENDING"}
    assert sent == [(["soup"], {}, {"retry": False, "routing_key": "tasks.soup", "countdown": 2})]
    event = TaskEvent.objects.get(task_id="new-task-id")
    assert event.kind == "sent from the API" and event.detail.startswith("by alice (API token ")


def test_async_apply_takes_a_form_too(api, sent):
    response = api.post(f"/api/task/async-apply/{LAZY}", {"args": '["soup"]'})
    assert response.status_code == 200 and sent[0][0] == ["soup"]


@pytest.mark.parametrize("name", ["celery.backend_cleanup", "os.system", "nope"])
def test_async_apply_refuses_what_the_app_does_not_register(api, sent, name):
    response = api.post(f"/api/task/async-apply/{name}")
    assert response.status_code == 404 and "no registered task" in response.json()["error"]
    assert sent == []


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        ({"args": {"a": 1}}, "args"),
        ({"kwargs": [1]}, "kwargs"),
        ({"countdown": -1}, "countdown"),
        ({"countdown": "soon"}, "countdown"),
        ({"routing_key": "no spaces"}, "routing_key"),
        ({"queue": "x"}, "queue"),
    ],
)
def test_async_apply_bad_parameters(api, sent, body, parameter):
    response = api.post(
        f"/api/task/async-apply/{LAZY}", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 400 and response.json()["parameter"] == parameter
    assert sent == []


def test_async_apply_with_the_broker_down_is_503(api, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(app.tasks[LAZY], "apply_async", refuse)
    response = api.post(f"/api/task/async-apply/{LAZY}")
    assert response.status_code == 503 and "connection refused" in response.json()["error"]


@pytest.mark.parametrize(
    ("params", "signal", "kind"),
    [
        ({}, None, "revoke requested"),
        ({"terminate": "true"}, "SIGTERM", "terminate requested"),
        ({"terminate": "true", "signal": "SIGKILL"}, "SIGKILL", "kill requested"),
    ],
)
def test_revoke(api, control, params, signal, kind):
    add_task("t-1", "STARTED")
    response = api.post("/api/task/revoke/t-1", params)
    body = check(response, "/api/task/revoke/{task_id}", "POST")
    assert body["replies"] == {"w1@host": "done"}
    expected = {"terminate": True, "signal": signal} if signal else {}
    assert control.calls == [("revoke", (["t-1"],), {"reply": True, "timeout": 0.5, **expected})]
    event = TaskEvent.objects.get(task_id="t-1")
    assert event.kind == kind and event.detail.startswith("by alice (API token ")


def test_a_revoke_or_a_limit_for_all_stops_waiting_once_the_online_workers_answered(
    api, control
):
    add_task("t-1", "STARTED")
    add_worker("w1@host")
    add_worker("w2@host")
    api.post("/api/task/revoke/t-1")
    api.post("/api/task/rate-limit/app.add", {"ratelimit": "10/m"})
    api.post("/api/task/timeout/app.add", {"soft": "5", "hard": "10"})
    assert [call[2]["limit"] for call in control.calls] == [2, 2, 2]


def test_revoke_unknown_task_or_signal(api, control):
    assert api.post("/api/task/revoke/nope").status_code == 404
    add_task("t-1")
    bad = api.post("/api/task/revoke/t-1", {"terminate": "true", "signal": "SIGSTOP"})
    assert bad.status_code == 400 and bad.json()["parameter"] == "signal"
    assert control.calls == []


def test_revoke_with_the_broker_down_records_nothing(api, control):
    add_task("t-1")
    control.error = OperationalError("down")
    response = api.post("/api/task/revoke/t-1")
    check(response, "/api/task/revoke/{task_id}", "POST")
    assert response.status_code == 503 and not TaskEvent.objects.exists()


def test_rate_limit_and_timeout_are_recorded(api, control):
    add_worker("w1@host")
    response = api.post("/api/task/rate-limit/app.add", {"ratelimit": "10/m"})
    check(response, "/api/task/rate-limit/{name}", "POST")
    response = api.post(
        "/api/task/timeout/app.add", {"soft": "5", "hard": "10", "workername": "w1@host"}
    )
    check(response, "/api/task/timeout/{name}", "POST")
    limit = TaskLimit.objects.get(name="app.add")
    assert (limit.rate_limit, limit.soft_time_limit, limit.time_limit) == ("10/m", 5.0, 10.0)
    assert limit.changed_by.startswith("alice (API token ")
    assert [call[0] for call in control.calls] == ["rate_limit", "time_limit"]
    assert control.calls[1][2]["destination"] == ["w1@host"]


def test_a_worker_error_is_409_and_not_recorded(api, control):
    control.replies = [{"w1@host": {"error": "unknown task"}}]
    response = api.post("/api/task/rate-limit/app.add", {"ratelimit": "10/m"})
    check(response, "/api/task/rate-limit/{name}", "POST")
    assert response.status_code == 409 and not TaskLimit.objects.exists()


@pytest.mark.parametrize(
    ("path", "params", "call"),
    [
        ("worker/shutdown", {}, ("shutdown", (), {"destination": ["w1@host"]})),
        ("worker/pool/grow", {"n": "2"}, ("pool_grow", (2,), {"destination": ["w1@host"]})),
        ("worker/pool/shrink", {}, ("pool_shrink", (1,), {"destination": ["w1@host"]})),
        (
            "worker/pool/autoscale",
            {"min": "1", "max": "4"},
            ("autoscale", (4, 1), {"destination": ["w1@host"]}),
        ),
        (
            "worker/queue/add-consumer",
            {"queue": "reports", "routing_key": "tasks.reports.#"},
            (
                "add_consumer",
                ("reports",),
                {
                    "exchange": "default",
                    "exchange_type": "topic",
                    "routing_key": "tasks.reports.#",
                    "destination": ["w1@host"],
                },
            ),
        ),
        (
            "worker/queue/cancel-consumer",
            {"queue": "reports"},
            ("cancel_consumer", ("reports",), {"destination": ["w1@host"]}),
        ),
    ],
)
def test_worker_commands(api, control, path, params, call):
    add_worker("w1@host")
    response = api.post(f"/api/{path}/w1@host", params)
    check(response, f"/api/{path}/{{hostname}}", "POST")
    assert response.status_code == 200
    name, args, kwargs = control.calls[0]
    kwargs = {k: v for k, v in kwargs.items() if k not in ("reply", "timeout")}
    assert (name, args, kwargs) == call


def test_worker_commands_check_the_worker_and_values(api, control):
    assert api.post("/api/worker/shutdown/nobody@host").status_code == 404
    add_worker("w1@host")
    cases = [
        ("worker/pool/grow", {"n": "65"}, "n"),
        ("worker/pool/autoscale", {"min": "5", "max": "4"}, "min"),
        ("worker/pool/autoscale", {"min": "1"}, "max"),
        ("worker/queue/add-consumer", {}, "queue"),
        ("worker/queue/add-consumer", {"queue": "a b"}, "queue"),
        # a queue name that is no binding key, with no routing_key given: the queue is at fault
        ("worker/queue/add-consumer", {"queue": "a..b"}, "queue"),
        ("worker/queue/add-consumer", {"queue": "reports", "routing_key": "a..b"}, "routing_key"),
    ]
    for path, params, parameter in cases:
        response = api.post(f"/api/{path}/w1@host", params)
        assert response.status_code == 400, (path, params)
        assert response.json()["parameter"] == parameter
    assert control.calls == []


@override_settings(MONITOR_API_REQUESTS_PER_MINUTE=600)
def test_retry_links_both_ways(api, sent):
    add_task("t-1", "FAILURE", name=LAZY, args="('soup',)", kwargs="{}", routing_key="tasks.soup")
    response = api.post("/api/task/retry/t-1")
    body = check(response, "/api/task/retry/{task_id}", "POST")
    assert body == {"task-id": "new-task-id", "state": "PENDING"}
    assert sent == [(["soup"], {}, {"retry": False, "routing_key": "tasks.soup"})]
    old = api.get("/api/task/info/t-1").json()
    assert old["retried_as"] == ["new-task-id"] and old["retry_of"] is None
    add_task("new-task-id", "PENDING", name=LAZY)
    new = api.get("/api/tasks").json()["new-task-id"]
    assert new["retry_of"] == "t-1"


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"state": "SUCCESS"}, "only FAILURE, REVOKED, REJECTED"),
        ({"name": "app.unknown"}, "not a registered task"),
        ({"args": "(<object at 0x1>,)"}, "not plain values"),
        ({"kwargs": "[1]"}, "not a dict"),
    ],
)
def test_retry_refusals_are_409(api, sent, fields, why):
    add_task("t-1", **{"state": "FAILURE", "name": LAZY, "args": "()", **fields})
    response = api.post("/api/task/retry/t-1")
    assert response.status_code == 409 and why in response.json()["error"]
    assert sent == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/dead-letters"),
        ("post", "/api/dead-letters/some-id/retry"),
        ("post", "/api/dead-letters/some-id/discard"),
    ],
)
def test_dead_letters_exist_on_rabbitmq_only(api, method, path):
    response = getattr(api, method)(path)
    assert response.status_code == 409
    assert "no dead-letter queue on a memory broker" in response.json()["error"]


def test_a_read_only_token_cannot_touch_a_dead_letter(db):
    from minestrone.monitor.api.tokens import ApiToken
    from tests.unit.monitor.api.conftest import Api, make_user

    _, token = ApiToken.objects.issue(make_user("reader"), read_only=True)
    for action in ("retry", "discard"):
        assert Api(token).post(f"/api/dead-letters/some-id/{action}").status_code == 403


def test_dead_letter_answers_fit_the_document(api, monkeypatch):
    from minestrone.monitor import dead_letters
    from tests.unit.monitor.test_admin_dead_letters import LETTER

    monkeypatch.setattr(dead_letters, "listing", lambda most=100: ([LETTER], 3))
    monkeypatch.setattr(dead_letters, "send_back", lambda task_id, who: f"new-{task_id}-{who}")
    monkeypatch.setattr(dead_letters, "discard", lambda task_id: LETTER)
    body = check(api.get("/api/dead-letters", {"limit": "1"}), "/api/dead-letters")
    assert body["total"] == 3 and body["dead-letters"][0]["deliveries"] == 6
    sent_back = api.post("/api/dead-letters/t-poison/retry")
    body = check(sent_back, "/api/dead-letters/{task_id}/retry", "POST")
    assert body["task-id"].startswith("new-t-poison-alice (API token ")  # who: the owner
    discarded = api.post("/api/dead-letters/t-poison/discard")
    body = check(discarded, "/api/dead-letters/{task_id}/discard", "POST")
    assert body["discarded"]["uuid"] == "t-poison"
    assert api.get("/api/dead-letters", {"limit": "0"}).json()["parameter"] == "limit"
