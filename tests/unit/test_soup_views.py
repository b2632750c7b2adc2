import re
from datetime import UTC, datetime
from html import unescape

import pytest
from django.test import RequestFactory
from kombu.exceptions import OperationalError

from minestrone.celery_app import app as celery_app
from minestrone.errors import BrokerUnreachable
from minestrone.soup import jobs, views
from minestrone.soup.activity import ActiveTask, Activity

pytestmark = pytest.mark.django_db


@pytest.fixture
def memory_broker():
    """The project's Celery app on kombu's in-memory transport, with its queues declared."""
    with celery_app.connection_for_write() as connection:
        assert connection.transport_cls == "memory"
        channel = connection.default_channel
        for queue in celery_app.conf.task_queues:
            queue(channel).declare()
            channel.queue_purge(queue.name)
        yield channel


def test_editor_page_has_the_two_fields_and_csrf(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="job_name"' in html
    assert 'name="routing_key_name"' in html
    assert "csrfmiddlewaretoken" in html


def test_submitting_queues_lazy_job_on_the_default_queue_with_its_routing_key(
    client, memory_broker
):
    response = client.post("/", {"job_name": "soup", "routing_key_name": "kitchen.urgent"})
    assert response.status_code == 302
    assert response["Location"] == "/active/"
    message = memory_broker.basic_get("default")
    assert message is not None, "nothing reached the default queue"
    assert message.headers["task"] == "minestrone.soup.tasks.lazy_job"
    assert message.delivery_info["routing_key"] == "tasks.kitchen.urgent"
    assert message.delivery_info["exchange"] == "default"
    assert message.decode()[0] == ["soup"]
    assert memory_broker.basic_get("default") is None


def test_the_redirect_shows_a_message_naming_the_job_and_key(client, memory_broker):
    response = client.post(
        "/",
        {"job_name": "soup", "routing_key_name": "urgent"},
        follow=True,
    )
    text = response.content.decode()
    assert "Queued the job “soup” with routing key tasks.urgent" in text


def test_bad_input_is_shown_on_the_page_and_nothing_is_queued(client, memory_broker):
    response = client.post("/", {"job_name": "soup", "routing_key_name": "a.#"})
    assert response.status_code == 200
    assert 'no "*" or "#"' in unescape(response.content.decode())
    assert memory_broker.basic_get("default") is None


def test_csrf_is_enforced():
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(
        "/", {"job_name": "soup", "routing_key_name": "urgent"}
    )
    assert response.status_code == 403


def test_broker_unreachable_is_a_503_and_no_job_is_claimed(client):
    def refuse(name, routing_key):
        raise BrokerUnreachable("[Errno 111] Connection refused")

    view = views.EditorView.as_view(queue_job=staticmethod(refuse))
    request = RequestFactory().post("/", {"job_name": "soup", "routing_key_name": "urgent"})
    request._dont_enforce_csrf_checks = True
    response = view(request)
    response.render()
    html = response.content.decode()
    assert response.status_code == 503
    assert "cannot be reached" in html
    assert "was <strong>not</strong> queued" in html
    assert "Queued the job" not in html


@pytest.mark.parametrize("with_cookie", [True, False])
def test_a_job_queued_during_a_database_outage_is_reported_as_queued(
    client, monkeypatch, with_cookie
):
    from django.contrib.sessions.backends import db as session_db
    from django.db import OperationalError as DatabaseDown

    queued = []

    def queue(name, routing_key):
        queued.append(name)
        return "11111111-2222-3333-4444-555555555555"

    def down(*args, **kwargs):
        raise DatabaseDown("server closed the connection unexpectedly")

    monkeypatch.setattr(views.EditorView, "queue_job", staticmethod(queue))
    monkeypatch.setattr(session_db.SessionStore, "load", down)
    monkeypatch.setattr(session_db.SessionStore, "save", down)
    if with_cookie:
        client.cookies["sessionid"] = "abcdefghijklmnopqrstuvwxyz012345"
    client.raise_request_exception = False
    response = client.post("/", {"job_name": "soup", "routing_key_name": "urgent"})
    html = response.content.decode()
    assert response.status_code == 200 and queued == ["soup"]
    assert "Queued the job “soup” with routing key tasks.urgent" in html
    assert "do not queue it again" in html and "Nothing was changed" not in html


def test_queue_lazy_job_turns_broker_errors_into_broker_unavailable(monkeypatch):
    def fail(*args, **kwargs):
        raise OperationalError("[Errno 111] Connection refused")

    monkeypatch.setattr(jobs.lazy_job, "apply_async", fail)
    with pytest.raises(BrokerUnreachable, match="Connection refused"):
        jobs.queue_lazy_job("soup", "tasks.urgent")


def render_active(activity, session=None, htmx=False, user=None):
    from django.contrib.auth.models import AnonymousUser

    view = views.ActiveTasksView.as_view(inspector=lambda: activity)
    headers = {"HX-Request": "true"} if htmx else {}
    request = RequestFactory().get("/active/", headers=headers)
    request.session = session if session is not None else {}
    request.user = user if user is not None else AnonymousUser()
    request.htmx = htmx
    response = view(request)
    response.render()
    return response, response.content.decode()


def test_active_page_lists_worker_task_argument_routing_key_and_since():
    started = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    task = ActiveTask(
        "celery@w1", "id-1", "minestrone.soup.tasks.lazy_job", ["my-soup"], "tasks.urgent", started
    )
    session = {"soup_recent_jobs": [{"id": "id-1", "name": "my-soup", "key": "x", "at": 0}]}
    response, html = render_active(Activity(tasks=[task], workers=["celery@w1"]), session)
    assert response.status_code == 200
    for text in (
        "celery@w1",
        "minestrone.soup.tasks.lazy_job",
        'title="my-soup">my-soup<',
        "tasks.urgent",
        'datetime="2026-01-02T03:04:05+00:00"',
    ):
        assert text in html


def others_jobs() -> Activity:
    """Another visitor's job running, one reserved, one scheduled, and one waiting (recorded)."""
    from minestrone.monitor.models import TaskState

    now = datetime.now(UTC)
    TaskState.objects.create(
        task_id="w-9",
        state="PENDING",
        progress=1,
        tstamp=now,
        name="lazy_job",
        args="['secret-waiting']",
        routing_key="tasks.q",
    )
    return Activity(
        tasks=[ActiveTask("celery@w1", "a-1", "lazy_job", ["secret-running"], "tasks.r", now)],
        reserved=[
            ActiveTask(
                "celery@w1",
                "r-1",
                "lazy_job",
                ["secret-reserved"],
                "tasks.s",
                now,
                status="reserved",
            )
        ],
        scheduled=[
            ActiveTask(
                "celery@w2",
                "s-1",
                "lazy_job",
                ["secret-scheduled"],
                "tasks.t",
                None,
                status="scheduled",
                eta=now,
            )
        ],
        workers=["celery@w1", "celery@w2"],
    )


SECRETS = ("secret-running", "secret-reserved", "secret-scheduled", "secret-waiting")


def test_a_visitor_sees_what_runs_but_not_the_arguments_of_others_jobs():
    _, html = render_active(others_jobs())
    for text in ("celery@w1", "celery@w2", "lazy_job", "tasks.r", "tasks.s", "tasks.t", "w-9"):
        assert text in html
    assert not [secret for secret in SECRETS if secret in html]
    assert html.count("data-args-hidden") == 4


def test_a_visitor_sees_the_arguments_of_their_own_jobs_only():
    session = {}
    for task_id in ("a-1", "w-9"):
        views.recent.remember(session, task_id, "mine", "tasks.r", datetime.now(UTC))
    _, html = render_active(others_jobs(), session)
    assert "secret-running" in html and "secret-waiting" in html
    assert "secret-reserved" not in html and "secret-scheduled" not in html


def test_staff_allowed_to_view_task_states_see_every_argument():
    from django.contrib.auth.models import Permission, User

    activity = others_jobs()
    staff = User.objects.create_user("staff", password="x", is_staff=True)
    _, html = render_active(activity, user=staff)
    assert not [secret for secret in SECRETS if secret in html]  # staff alone is not enough
    staff.user_permissions.add(Permission.objects.get(codename="view_taskstate"))
    staff = User.objects.get(pk=staff.pk)  # permissions are cached per object
    _, html = render_active(activity, user=staff)
    assert all(secret in html for secret in SECRETS)


def test_another_browser_does_not_see_the_argument_typed_in_this_one(client, memory_broker):
    from django.test import Client

    from minestrone.monitor.models import TaskState

    client.post("/", {"job_name": "alpha-private", "routing_key_name": "urgent"})
    [task_id] = [entry["id"] for entry in client.session["soup_recent_jobs"]]
    TaskState.objects.create(
        task_id=task_id,
        state="PENDING",
        progress=1,
        tstamp=datetime.now(UTC),
        name="minestrone.soup.tasks.lazy_job",
        args="['alpha-private']",
        routing_key="tasks.urgent",
    )
    assert "alpha-private" in client.get("/active/").content.decode()
    other = Client().get("/active/").content.decode()
    assert task_id in other and "tasks.urgent" in other and "alpha-private" not in other


def test_active_page_says_when_no_worker_answered():
    response, html = render_active(Activity())
    assert response.status_code == 200
    assert "No worker answered" in html


def test_active_page_says_when_workers_are_idle():
    response, html = render_active(Activity(workers=["celery@w1"]))
    assert "No task is running right now" in html


def test_active_page_says_when_the_broker_is_down():
    response, html = render_active(Activity(broker_error="[Errno 111] Connection refused"))
    assert response.status_code == 503
    assert "message broker (RabbitMQ) cannot be reached" in html


def test_a_job_just_queued_is_on_the_active_page_as_queued(client, memory_broker):
    response = client.post("/", {"job_name": "soup", "routing_key_name": "urgent"}, follow=True)
    html = response.content.decode()
    [task_id] = [entry["id"] for entry in client.session["soup_recent_jobs"]]
    # the message links the task's page; the recent jobs list shows it queued
    assert f'href="/admin/monitor/taskstate/{task_id}/change/"' in html
    assert f'<tr data-task-id="{task_id}">' in html
    assert 'data-status="queued"' in html
    # the queue's depth comes from the broker: the job waits in `default`
    assert '<td class="num" data-ready>1</td>' in unescape(html)


def test_visitors_within_two_seconds_share_one_ask_of_the_broker(client, monkeypatch):
    asked = []

    def read():
        asked.append(1)
        return Activity(workers=["celery@w1"])

    monkeypatch.setattr(views, "_read_activity", read)
    clock = [100.0]
    monkeypatch.setattr(views.shared_activity, "_clock", lambda: clock[0])
    for _ in range(3):
        assert client.get("/active/").status_code == 200
    clock[0] += 1.9
    client.get("/active/", headers={"HX-Request": "true"})
    assert len(asked) == 1
    clock[0] += 0.2
    client.get("/active/")
    assert len(asked) == 2


def test_concurrent_visitors_wait_for_one_ask():
    import threading

    from minestrone.soup.shared import Shared

    started, release, calls = threading.Event(), threading.Event(), []

    def slow():
        calls.append(1)
        started.set()
        release.wait(5)
        return "snapshot"

    shared = Shared(slow, 2.0, clock=lambda: 100.0)  # still fresh however late a thread is
    results = []
    threads = [threading.Thread(target=lambda: results.append(shared())) for _ in range(4)]
    for thread in threads:
        thread.start()
    started.wait(5)
    release.set()
    for thread in threads:
        thread.join(5)
    assert results == ["snapshot"] * 4 and calls == [1]


def test_recent_jobs_take_the_status_a_worker_or_the_camera_reports():
    from minestrone.monitor.models import TaskState

    now = datetime.now(UTC)
    session = {}
    for task_id in ("held", "done", "new"):
        views.recent.remember(session, task_id, task_id, "tasks.x", now)
    TaskState.objects.create(task_id="done", state="SUCCESS", progress=1, tstamp=now)
    running = ActiveTask("celery@w1", "held", "lazy_job", [], "tasks.x", now)
    _, html = render_active(Activity(tasks=[running], workers=["celery@w1"]), session)
    statuses = dict(re.findall(r'data-task-id="(\w+)">.*?data-status="(\w+)"', html, re.S))
    assert statuses == {"held": "running", "done": "SUCCESS", "new": "queued"}


def test_the_active_page_lists_tasks_waiting_in_the_queue():
    from minestrone.monitor.models import TaskState

    now = datetime.now(UTC)
    TaskState.objects.create(
        task_id="w1", state="PENDING", progress=1, tstamp=now, name="lazy", routing_key="tasks.q"
    )
    TaskState.objects.create(
        task_id="old", state="PENDING", progress=1, tstamp=datetime(2020, 1, 1, tzinfo=UTC)
    )
    _, html = render_active(Activity(workers=["celery@w1"]))
    assert 'id="waiting"' in html and 'data-task-id="w1"' in html
    assert 'data-task-id="old"' not in html


def test_htmx_gets_the_fragment_only_and_no_error_status():
    response, html = render_active(Activity(broker_error="refused"), htmx=True)
    assert response.status_code == 200
    assert "<html" not in html and 'id="activity"' in html
    assert "cannot be reached" in html


def test_pages_have_a_viewport_and_our_stylesheet(client):
    html = client.get("/").content.decode()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "soup/site.css" in html
    assert "htmx" in html


def test_the_queue_table_shows_unacked_counts_from_the_management_api():
    from minestrone.monitor.queue_depth import MANAGEMENT_API, QueueDepth, QueueDepths

    queues = QueueDepths([QueueDepth("default", 4, 2, unacked=1)], MANAGEMENT_API)
    _, html = render_active(Activity(workers=["celery@w1"], queues=queues))
    row = re.search(r'<tr data-queue="default">.*?</tr>', html, re.S).group(0)
    cells = re.findall(r"<td class=\"num\" data-(\w+)[^>]*>(.*?)</td>", row)
    assert cells == [("ready", "4"), ("unacked", "1"), ("consumers", "2")]
    assert "Read from RabbitMQ's management API" in html
    assert "need RabbitMQ" not in html


def test_without_the_api_the_page_says_unacked_counts_need_it():
    from minestrone.monitor.queue_depth import PASSIVE_DECLARE, QueueDepth, QueueDepths

    queues = QueueDepths(
        [QueueDepth("default", 4, 2)], PASSIVE_DECLARE, "the management API answered HTTP 401"
    )
    _, html = render_active(Activity(workers=["celery@w1"], queues=queues))
    row = re.search(r'<tr data-queue="default">.*?</tr>', html, re.S).group(0)
    assert re.search(r"data-unacked[^>]*>–</td>", row)
    assert "Read by AMQP passive declare" in html
    assert "unacknowledged counts per queue need RabbitMQ's management API" in html
    assert "answered HTTP 401" in html


def test_on_redis_the_queue_table_says_where_counts_come_from_and_that_consumers_are_unknown():
    from minestrone.monitor.broker import REDIS_KEYS, QueueDepth, QueueDepths

    queues = QueueDepths([QueueDepth("default", 4, None, unacked=1)], REDIS_KEYS)
    _, html = render_active(Activity(workers=["celery@w1"], queues=queues))
    row = re.search(r'<tr data-queue="default">.*?</tr>', html, re.S).group(0)
    cells = re.findall(r"<td class=\"num\" data-(\w+)[^>]*>(.*?)</td>", row)
    assert cells == [("ready", "4"), ("unacked", "1"), ("consumers", "–")]
    assert "Read from Redis" in html and "no count of consumers" in html
    assert "passive declare" not in html
