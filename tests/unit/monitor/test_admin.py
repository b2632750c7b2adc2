"""The admin's Tasks and Workers, through a logged-in client, with a fake remote control."""

import inspect
import re
from datetime import timedelta

import pytest
from celery.app.control import Control
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from kombu.exceptions import OperationalError

from minestrone.monitor.admin import MonitorAdmin
from minestrone.monitor.control import RemoteControl
from minestrone.monitor.models import TaskState, WorkerState
from minestrone.monitor.paginator import CappedPaginator
from minestrone.monitor.states import progress

pytestmark = pytest.mark.django_db

TASKS = "/admin/monitor/taskstate/"
WORKERS = "/admin/monitor/workerstate/"


class FakeControl:
    """Celery's Control API, recording calls and answering with canned replies."""

    def __init__(self, replies=None, error=None):
        self.replies = [{"w1@host": {"ok": "done"}}] if replies is None else replies
        self.error = error
        self.calls = []

    def _call(self, name, *args, **kwargs):
        # the call must fit the real method's signature
        inspect.signature(getattr(Control, name)).bind(None, *args, **kwargs)
        self.calls.append((name, args, kwargs))
        if self.error:
            raise self.error
        return self.replies

    def revoke(self, *args, **kwargs):
        return self._call("revoke", *args, **kwargs)

    def rate_limit(self, *args, **kwargs):
        return self._call("rate_limit", *args, **kwargs)

    def shutdown(self, *args, **kwargs):
        self._call("shutdown", *args, **kwargs)

    def enable_events(self, *args, **kwargs):
        return self._call("enable_events", *args, **kwargs)

    def __getattr__(self, name):
        if name.startswith("_") or not hasattr(Control, name):
            raise AttributeError(name)
        return lambda *args, **kwargs: self._call(name, *args, **kwargs)

    def disable_events(self, *args, **kwargs):
        return self._call("disable_events", *args, **kwargs)


@pytest.fixture
def control(monkeypatch):
    fake = FakeControl()
    monkeypatch.setattr(
        MonitorAdmin, "control_factory", staticmethod(lambda: RemoteControl(fake, 0.5))
    )
    return fake


def add_task(task_id, state="SUCCESS", ago=timedelta(minutes=1), **fields):
    when = timezone.now() - ago
    row = {
        "task_id": task_id,
        "state": state,
        "tstamp": when,
        "progress": progress(state, when.timestamp()),
    }
    row.update(fields)
    TaskState.objects.record([row])
    return TaskState.objects.get(pk=task_id)


def add_worker(hostname, online=True):
    now = timezone.now()
    return WorkerState.objects.create(
        hostname=hostname,
        last_heartbeat=now - timedelta(seconds=1),
        heartbeat_expires=now + (timedelta(minutes=10) if online else -timedelta(seconds=5)),
        sw_ident="py-celery",
        sw_ver="5.7.0",
        sw_sys="Linux",
        active=1,
        processed=7,
        loadavg="0.10 0.20 0.30",
    )


def staff(*codenames):
    user = User.objects.create_user("staff", password="pw", is_staff=True)
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


def html(response):
    return response.content.decode()


def test_columns(admin_client):
    add_task(
        "id-1",
        "STARTED",
        name="app.tasks.add",
        args="(" + "1, " * 40 + ")",
        kwargs="{'x': 1}",
        routing_key="tasks.kitchen",
        worker="w1@host",
        runtime=0.25,
        eta=timezone.now() + timedelta(hours=1),
    )
    page = html(admin_client.get(TASKS))
    assert "id-1" in page
    assert re.search(
        r'class="monitor-state" style="background:#f2cc0c;color:#1f2328;[^"]*">STARTED<', page
    )
    assert "app.tasks.add" in page
    assert "(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1…" in page
    assert "tasks.kitchen" in page
    assert "0.250 s" in page
    assert "w1@host" in page
    assert re.search(
        r'<span title="\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [A-Z+0-9-]+">a minute ago</span>', page
    )
    for header in (
        "Task",
        "State",
        "Name",
        "Arguments",
        "Routing key",
        "When",
        "Runtime",
        "Worker",
    ):
        assert f">{header}<" in page
    # long values stay on one line, whole on hover; the id links the task's page
    assert '<span class="monitor-trunc" title="tasks.kitchen">tasks.kitchen</span>' in page
    assert re.search(
        r'<a href="/admin/monitor/taskstate/id-1/change/[^"]*">'
        r'<span class="monitor-id" title="id-1">',
        page,
    )


def test_values_are_escaped(admin_client):
    add_task("x", name="<script>alert(1)</script>", args="<b>bold</b>")
    page = html(admin_client.get(TASKS))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page


def test_newest_event_first_and_hidden_tasks_not_listed(admin_client):
    add_task("old", ago=timedelta(hours=2))
    add_task("new", ago=timedelta(minutes=1))
    add_task("hidden")
    TaskState.objects.filter(pk="hidden").update(hidden=True)
    listed = [t.task_id for t in admin_client.get(TASKS).context["cl"].result_list]
    assert listed == ["new", "old"]


@pytest.mark.parametrize(
    ("query", "listed"),
    [
        ("state=FAILURE", {"b"}),
        ("name=app.mul", {"b"}),
        ("worker=w2%40host", {"c"}),
        ("routing_key=tasks.slow", {"c"}),
        ("q=app.add", {"a", "c"}),
        ("q=w2@host", {"c"}),
        ("q=argneedle", {"b"}),
        ("q=kwneedle", {"c"}),
        ("q=a-task", {"a"}),
    ],
)
def test_filters_and_search(admin_client, query, listed):
    add_task("a-task", "SUCCESS", name="app.add", worker="w1@host", routing_key="tasks.fast")
    add_task("b-task", "FAILURE", name="app.mul", worker="w1@host", args="('argneedle',)")
    add_task(
        "c-task",
        "SUCCESS",
        name="app.add",
        worker="w2@host",
        routing_key="tasks.slow",
        kwargs="{'k': 'kwneedle'}",
    )
    response = admin_client.get(f"{TASKS}?{query}")
    assert response.status_code == 200
    shown = {obj.task_id[0] for obj in response.context["cl"].result_list}
    assert shown == listed


def test_filter_choices_come_from_the_table(admin_client):
    add_task("a", name="app.add", worker="w1@host", routing_key="tasks.fast")
    add_task("b", name="app.mul", worker="w2@host", routing_key="tasks.slow")
    page = html(admin_client.get(TASKS))
    for value in (
        "?name=app.add",
        "?name=app.mul",
        "?worker=w1%40host",
        "?worker=w2%40host",
        "?routing_key=tasks.fast",
        "?routing_key=tasks.slow",
        "?state__exact=SUCCESS",
        "tstamp__gte=",
    ):
        assert value in page


def test_date_filter_and_hierarchy(admin_client):
    add_task("today", ago=timedelta(0))  # "Today" starts at midnight: no minute earlier
    add_task("last-month", ago=timedelta(days=40))
    page = html(admin_client.get(TASKS))
    assert '<nav class="toplinks">' in page  # the date hierarchy
    assert "tstamp__year=" in page
    today_link = re.search(r'<a href="(\?tstamp__gte=[^"]+)"[^>]*>Today</a>', page).group(1)
    response = admin_client.get(TASKS + today_link.replace("&amp;", "&"))
    assert [t.task_id for t in response.context["cl"].result_list] == ["today"]


def test_the_detail_page_is_read_only_with_monospace_result_and_traceback(admin_client):
    add_task(
        "f",
        "FAILURE",
        name="app.div",
        args="(1, 0)",
        result="ZeroDivisionError()",
        traceback="Traceback (most recent call last):\n  <frame>\nZeroDivisionError",
        exchange="default",
        routing_key="tasks.math",
        queue="default",
    )
    response = admin_client.get(f"{TASKS}f/change/")
    page = html(response)
    assert response.status_code == 200
    assert '<pre class="monitor-pre"' in page
    assert "Traceback (most recent call last):\n  &lt;frame&gt;\nZeroDivisionError</pre>" in page
    assert "ZeroDivisionError()</pre>" in page
    assert "(1, 0)</pre>" in page
    assert 'name="_save"' not in page
    for label in ("Exchange", "Routing key", "Queue", "Sent", "Received", "Started", "Finished"):
        assert f"{label}:" in page
    assert admin_client.post(f"{TASKS}f/change/", {"state": "SUCCESS"}).status_code == 403
    assert TaskState.objects.get().state == "FAILURE"


def test_no_add_and_no_delete(admin_client):
    add_task("a")
    assert admin_client.get(f"{TASKS}add/").status_code == 403
    assert admin_client.get(f"{TASKS}a/delete/").status_code == 403
    page = html(admin_client.get(TASKS))
    assert "delete_selected" not in page
    assert f"{TASKS}add/" not in page


def act(client, url, action, ids, **extra):
    return client.post(url, {"action": action, "_selected_action": ids, **extra}, follow=True)


@pytest.mark.parametrize(
    ("action", "expected_kwargs", "verb"),
    [
        ("revoke_tasks", {}, "Revoke"),
        ("terminate_tasks", {"terminate": True, "signal": "SIGTERM"}, "Terminate"),
        ("kill_tasks", {"terminate": True, "signal": "SIGKILL"}, "Kill"),
    ],
)
def test_revoke_terminate_kill_reach_the_workers_and_report(
    admin_client, control, action, expected_kwargs, verb
):
    add_task("a", "STARTED")
    add_task("b", "RECEIVED")
    add_task("c")
    response = act(admin_client, TASKS, action, ["a", "b"])
    [(name, args, kwargs)] = control.calls
    assert name == "revoke"
    assert sorted(args[0]) == ["a", "b"]
    assert kwargs == {"reply": True, "timeout": 0.5, **expected_kwargs}
    assert messages_of(response) == [f"{verb} 2 task(s): w1@host: done."]


def test_a_revoke_stops_waiting_once_the_online_workers_answered(admin_client, control):
    add_task("a", "STARTED")
    add_worker("w1@host")
    add_worker("w2@host")
    add_worker("w3@host", online=False)
    act(admin_client, TASKS, "terminate_tasks", ["a"])
    [(_, _, kwargs)] = control.calls
    assert kwargs["limit"] == 2 and kwargs["timeout"] == 0.5


def test_when_no_worker_answers_the_user_is_told(admin_client, control):
    control.replies = []
    add_task("a")
    response = act(admin_client, TASKS, "revoke_tasks", ["a"])
    assert messages_of(response) == ["Revoke 1 task(s): no worker answered within 0.5 s."]
    assert 'class="warning"' in html(response)


def test_a_worker_error_is_reported_as_an_error(admin_client, control):
    control.replies = [{"w1@host": {"error": "unknown task"}}, {"w2@host": {"ok": "fine"}}]
    add_task("a", name="x")
    response = act(admin_client, TASKS, "revoke_tasks", ["a"])
    assert messages_of(response) == [
        "Revoke 1 task(s): w1@host: error: unknown task; w2@host: fine."
    ]
    assert 'class="error"' in html(response)


def test_an_unreachable_broker_is_reported(admin_client, control):
    control.error = OperationalError("[Errno 111] Connection refused")
    add_task("a")
    response = act(admin_client, TASKS, "kill_tasks", ["a"])
    assert messages_of(response) == [
        "Kill 1 task(s): not sent, the broker is unavailable ([Errno 111] Connection refused)."
    ]


def test_too_many_selected_tasks_are_refused(admin_client, control, monkeypatch):
    monkeypatch.setattr("minestrone.monitor.admin_tasks.MAX_ACTION_TASKS", 2)
    for n in range(3):
        add_task(f"t{n}")
    response = act(admin_client, TASKS, "revoke_tasks", ["t0"], select_across="1")
    assert control.calls == []
    assert "More than 2 tasks are selected" in messages_of(response)[0]


def test_rate_limit_asks_for_a_rate_then_sends_it_once_per_name(admin_client, control):
    add_task("a", name="app.add")
    add_task("b", name="app.add")
    add_task("c", name="app.mul")
    add_task("d")  # no name known
    response = act(admin_client, TASKS, "rate_limit_tasks", ["a", "b", "c", "d"])
    page = html(response)
    assert control.calls == []
    assert "<code>app.add</code>" in page and "<code>app.mul</code>" in page
    assert 'name="rate"' in page
    for pk in "abcd":
        assert f'name="_selected_action" value="{pk}"' in page

    response = act(
        admin_client, TASKS, "rate_limit_tasks", ["a", "b", "c", "d"], apply="yes", rate="10/m"
    )
    assert [(c[0], c[1]) for c in control.calls] == [
        ("rate_limit", ("app.add", "10/m")),
        ("rate_limit", ("app.mul", "10/m")),
    ]
    assert messages_of(response) == [
        "Rate limit 10/m for app.add: w1@host: done.",
        "Rate limit 10/m for app.mul: w1@host: done.",
    ]
    # recorded, to be applied again to workers that restart
    from minestrone.monitor.models import TaskLimit

    assert dict(TaskLimit.objects.values_list("name", "rate_limit")) == {
        "app.add": "10/m",
        "app.mul": "10/m",
    }


def test_rate_limit_stops_waiting_once_the_online_workers_answered(admin_client, control):
    add_task("a", name="app.add")
    add_worker("w1@host")
    add_worker("w2@host")
    add_worker("w3@host", online=False)
    act(admin_client, TASKS, "rate_limit_tasks", ["a"], apply="yes", rate="10/m")
    [(_, _, kwargs)] = control.calls
    assert kwargs["limit"] == 2


def test_rate_limit_without_online_workers_waits_the_timeout(admin_client, control):
    add_task("a", name="app.add")
    act(admin_client, TASKS, "rate_limit_tasks", ["a"], apply="yes", rate="10/m")
    [(_, _, kwargs)] = control.calls
    assert "limit" not in kwargs and kwargs["timeout"] == 0.5


def test_rate_limit_refuses_too_many_names(admin_client, control, monkeypatch):
    from minestrone.monitor import admin_tasks

    monkeypatch.setattr(admin_tasks, "MAX_RATE_LIMIT_NAMES", 2)
    for pk in "abc":
        add_task(pk, name=f"app.{pk}")
    response = act(admin_client, TASKS, "rate_limit_tasks", list("abc"), apply="yes", rate="1/m")
    assert control.calls == []
    [message] = messages_of(response)
    assert message.startswith("The selected tasks have more than 2 names: nothing sent.")


@pytest.mark.parametrize("rate", ["fast", "10/d", "-1/m", "", "10 / m"])
def test_rate_limit_refuses_an_invalid_rate(admin_client, control, rate):
    add_task("a", name="app.add")
    response = act(admin_client, TASKS, "rate_limit_tasks", ["a"], apply="yes", rate=rate)
    assert control.calls == []
    assert response.status_code == 200
    assert 'class="errorlist' in html(response)


def test_rate_limit_without_names_says_so(admin_client, control):
    add_task("a")
    response = act(admin_client, TASKS, "rate_limit_tasks", ["a"])
    assert messages_of(response) == ["The selected tasks have no known name: nothing to limit."]


def test_workers_list_status_heartbeat_counts_and_load(admin_client):
    add_worker("w1@host", online=True)
    add_worker("w2@host", online=False)
    WorkerState.objects.create(hostname="w3@host")
    page = html(admin_client.get(WORKERS))
    assert re.search(r"w1@host.*?>ONLINE<", page, re.S)
    assert re.search(r"w2@host.*?>OFFLINE<", page, re.S)
    assert re.search(r"w3@host.*?>OFFLINE<", page, re.S)
    assert "py-celery 5.7.0 (Linux)" in page
    assert "0.10 0.20 0.30" in page
    assert "second" in page  # last heartbeat, naturally
    online = admin_client.get(f"{WORKERS}?status=online").context["cl"].result_list
    assert [w.hostname for w in online] == ["w1@host"]


@pytest.mark.parametrize(
    ("action", "command", "message"),
    [
        (
            "shutdown_workers",
            "shutdown",
            "Shut down w1@host, w2@host: sent (workers do not reply to this command).",
        ),
        ("enable_events", "enable_events", "Enable events: w1@host: done."),
        ("disable_events", "disable_events", "Disable events: w1@host: done."),
    ],
)
def test_worker_actions(admin_client, control, action, command, message):
    ids = [str(add_worker(h).pk) for h in ("w1@host", "w2@host")]
    add_worker("w3@host")
    response = act(admin_client, WORKERS, action, ids)
    [(name, args, kwargs)] = control.calls
    assert name == command
    assert kwargs["destination"] == ["w1@host", "w2@host"]
    assert messages_of(response) == [message]


@pytest.mark.parametrize("action", ["shutdown_workers", "enable_events", "disable_events"])
def test_a_selection_that_matches_no_worker_sends_nothing(admin_client, control, action):
    # an empty destination would reach every worker: a row purged before Go, or "select all"
    # over an empty filter
    worker = add_worker("w1@host")
    response = act(admin_client, WORKERS, action, ["99999"])
    assert control.calls == []
    assert messages_of(response) == ["No worker selected: nothing was sent."]
    response = act(
        admin_client, f"{WORKERS}?status=offline", action, [str(worker.pk)], select_across="1"
    )
    assert control.calls == []
    assert messages_of(response) == ["No worker selected: nothing was sent."]


def test_anonymous_users_are_sent_to_the_login_page(client):
    for url in (TASKS, WORKERS, f"{TASKS}x/change/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_staff_without_permissions_see_nothing(client):
    client.force_login(staff())
    assert client.get(TASKS).status_code == 403
    assert client.get(WORKERS).status_code == 403


def test_view_permission_shows_the_list_but_no_action(client, control):
    client.force_login(staff("view_taskstate"))
    add_task("a")
    response = client.get(TASKS)
    assert response.status_code == 200
    assert "revoke_tasks" not in html(response)
    act(client, TASKS, "revoke_tasks", ["a"])
    assert control.calls == []
    assert client.get(WORKERS).status_code == 403


def test_change_permission_allows_the_actions(client, control):
    client.force_login(staff("view_taskstate", "change_taskstate"))
    add_task("a")
    act(client, TASKS, "revoke_tasks", ["a"])
    assert [c[0] for c in control.calls] == ["revoke"]
    assert client.get(f"{TASKS}a/change/").status_code == 200
    assert client.post(f"{TASKS}a/change/", {}).status_code == 403


def test_an_empty_table_explains_the_usual_causes(admin_client):
    page = html(admin_client.get(TASKS))
    assert "No recent events." in page
    assert "no worker heartbeat either" in page
    assert "manage.py celerycam" in page


def test_online_workers_without_task_events_point_at_dash_e(admin_client):
    add_worker("w1@host")
    add_task("old", ago=timedelta(hours=3))
    page = html(admin_client.get(TASKS))
    assert "though workers are online" in page
    assert "-E" in page
    assert "since 3\xa0hours ago" in page


def test_recent_events_show_no_notice(admin_client):
    add_task("a", ago=timedelta(seconds=30))
    assert "No recent events." not in html(admin_client.get(TASKS))


def test_a_big_table_is_counted_only_up_to_the_cap(admin_client, monkeypatch):
    monkeypatch.setattr(CappedPaginator, "cap", 5)
    for n in range(12):
        add_task(f"t{n:02}")
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(TASKS)
    page = html(response)
    assert "more than 5 tasks" in page
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts, "the paginator counts"
    for sql in counts:
        if "monitor_taskstate" in sql:
            assert "LIMIT 6" in sql, sql


def test_a_small_table_shows_its_count(admin_client):
    add_task("a")
    add_task("b")
    assert "2 tasks" in html(admin_client.get(TASKS))


def test_a_task_id_is_searched_through_the_primary_key(admin_client):
    task_id = "0b1e9a4c-5d6f-4a2b-9c8d-7e6f5a4b3c2d"
    add_task(task_id)
    add_task("other", args=f"('{task_id}',)")
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(f"{TASKS}?q={task_id}")
    assert [t.task_id for t in response.context["cl"].result_list] == [task_id]
    assert not any("LIKE" in q["sql"] for q in queries.captured_queries)


@pytest.mark.parametrize("model", ["taskstate", "workerstate"])
def test_facet_counts_are_never_offered(admin_client, model):
    from django.contrib import admin as django_admin

    from minestrone.monitor.models import TaskState, WorkerState

    for registered in (TaskState, WorkerState):
        assert django_admin.site._registry[registered].show_facets == django_admin.ShowFacets.NEVER
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(f"/admin/monitor/{model}/?_facets=True")
    assert response.status_code == 200
    assert "Show counts" not in response.content.decode()
    assert not [q["sql"] for q in queries if "COUNT(CASE" in q["sql"] or "FILTER (" in q["sql"]]


def test_only_indexed_columns_are_sortable():
    from django.contrib import admin as django_admin

    from minestrone.monitor.models import TaskState

    assert django_admin.site._registry[TaskState].sortable_by == ("task_link", "when")


def test_terminating_a_finished_task_says_there_was_nothing_to_stop(admin_client, control):
    control.replies = [{"w1@host": {"ok": "terminate: tasks unknown"}}]
    add_task("a", "SUCCESS")
    response = act(admin_client, TASKS, "terminate_tasks", ["a"])
    [message] = messages_of(response)
    assert "nothing to stop" in message and "tasks unknown" not in message
    assert 'class="warning"' in html(response)


def test_a_revoke_records_who_asked_in_the_tasks_timeline(admin_client, control):
    from minestrone.monitor.models import TaskEvent

    add_task("a", "STARTED")
    act(admin_client, TASKS, "kill_tasks", ["a"])
    [event] = TaskEvent.objects.filter(task_id="a")
    assert (event.kind, event.detail) == ("kill requested", "by admin (SIGKILL)")


def test_a_revoke_that_did_not_reach_the_broker_is_not_recorded(admin_client, control):
    from minestrone.monitor.models import TaskEvent

    control.error = OperationalError("[Errno 111] Connection refused")
    add_task("a")
    act(admin_client, TASKS, "revoke_tasks", ["a"])
    assert not TaskEvent.objects.exists()


@pytest.mark.parametrize(
    ("action", "reply", "plain"),
    [
        ("disable_events", "task events already disabled", "no effect"),
        ("enable_events", "task events already enabled", "no change"),
    ],
)
def test_an_event_switch_that_changes_nothing_says_so_plainly(
    admin_client, control, action, reply, plain
):
    control.replies = [{"w1@host": {"ok": reply}}]
    add_worker("w1@host")
    pk = WorkerState.objects.get().pk
    response = act(admin_client, WORKERS, action, [pk])
    [message] = messages_of(response)
    assert plain in message and "already" not in message.split(":", 2)[-1][:20]
    assert 'class="warning"' in html(response)
    assert 'class="success"' not in html(response)


def test_the_task_page_is_a_read_only_view_with_times_links_and_timeline(admin_client):
    from datetime import UTC, datetime

    from minestrone.monitor.models import TaskEvent

    sent = datetime(2026, 11, 29, 19, 25, 0, 123000, tzinfo=UTC)
    later = [sent + timedelta(seconds=s) for s in (0.01, 0.5, 5.5)]
    add_task(
        "t-1",
        "REVOKED",
        worker="w1@host",
        routing_key="tasks.reports.daily",
        sent=sent,
        received=later[0],
        started=later[1],
        finished=later[2],
        revocation="terminated (SIGTERM)",
    )
    worker = add_worker("w1@host")
    TaskEvent.objects.record(
        [
            {"task_id": "t-1", "kind": "sent", "timestamp": sent, "detail": "routing key x"},
            {"task_id": "t-1", "kind": "started", "timestamp": later[1], "hostname": "w1@host"},
            {"task_id": "t-1", "kind": "revoked", "timestamp": later[2], "hostname": "w1@host"},
        ]
    )
    TaskEvent.objects.record_actions(
        ["t-1"], "terminate requested", "alice", later[2]
    )
    page = html(admin_client.get(f"{TASKS}t-1/change/"))
    assert "| View task |" in page and "Change task" not in page
    assert "2026-11-29 19:25:00.123 UTC" in page
    assert "(+0.490 s)" in page  # started after received
    assert "queued for 0.500 s, ran for 5.000 s" in page
    assert "terminated (SIGTERM) at 2026-11-29 19:25:05.623 UTC" in page
    assert "terminate requested by alice" in page
    assert f'href="/admin/monitor/workerstate/{worker.pk}/change/"' in page
    assert 'href="/admin/monitor/taskstate/?worker=w1%40host"' in page
    assert 'href="/admin/monitor/taskstate/?routing_key=tasks.reports.daily"' in page
    assert 'href="/admin/monitor/taskstate/?routing_key_prefix=tasks.reports.%2A"' in page
    kinds = re.findall(r'data-kind="([^"]+)"', page)
    assert kinds == ["sent", "started", "revoked", "terminate requested"]
    assert ">Timeline<" in page and ">History<" not in page
    response = admin_client.get(f"{TASKS}t-1/history/")
    assert response["Location"] == f"{TASKS}t-1/change/#timeline"


def test_lists_are_titled_without_change(admin_client):
    assert "Select task to change" not in html(admin_client.get(TASKS))
    assert "Select worker to change" not in html(admin_client.get(WORKERS))


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("q=reports.daily", ["a"]),
        ("q=tasks.reports.*", ["a", "b"]),
        ("routing_key_prefix=tasks.reports.*", ["a", "b"]),
        ("routing_key_prefix=tasks.*", ["a", "b", "c"]),
        ("routing_key=tasks.reports.daily", ["a"]),
    ],
)
def test_routing_keys_are_searchable_and_filtered_by_prefix(admin_client, query, found):
    add_task("a", routing_key="tasks.reports.daily")
    add_task("b", routing_key="tasks.reports.weekly")
    add_task("c", routing_key="tasks.urgent")
    add_task("d", routing_key="other.reports.x")
    listed = admin_client.get(f"{TASKS}?{query}").context["cl"].result_list
    assert sorted(t.task_id for t in listed) == found


def test_the_prefix_filter_offers_every_dotted_prefix(admin_client):
    add_task("a", routing_key="tasks.reports.daily")
    page = html(admin_client.get(TASKS))
    assert "?routing_key_prefix=tasks.reports.%2A" in page
    assert "?routing_key_prefix=tasks.%2A" in page


@pytest.mark.parametrize("url", [TASKS, WORKERS])
def test_lists_poll_their_rows_only(admin_client, url):
    add_task("a")
    add_worker("w1@host")
    page = html(admin_client.get(url))
    assert 'data-live hx-trigger="every 5s, live-refresh"' in page
    assert '"allowEval": false' in page
    assert "monitor/live.js" in page and "htmx" in page
    fragment = html(admin_client.get(url, headers={"HX-Request": "true"}))
    assert fragment.lstrip().startswith('<div class="results">')
    assert 'id="result_list"' in fragment and "<html" not in fragment


@pytest.mark.parametrize(
    ("query", "live"),
    [
        ("", True),
        ("?q=", True),
        ("?q=tasks.reports.*", True),  # a prefix: the routing key's index
        ("?q=0123abcd-0000-1111-2222-333344445555", True),  # a task id: the primary key
        ("?state=SUCCESS", True),
        ("?q=soup", False),  # six columns searched through the whole table
        ("?q=+reports+&state=FAILURE", False),
    ],
)
def test_a_word_search_is_not_polled(admin_client, query, live):
    add_task("a")
    page = html(admin_client.get(f"{TASKS}{query}"))
    assert ("data-live" in page) is live
    assert ("Not refreshed live while searching for words" in page) is not live


def test_prefixes_stop_at_three_words_and_long_choices_are_shortened():
    from minestrone.monitor.filters import _choice, prefixes

    assert prefixes(["tasks.reports.daily.eu.west", "a"]) == [
        "tasks.*",
        "tasks.reports.*",
        "tasks.reports.daily.*",
    ]
    value, label = _choice("k" * 249)
    assert value == "k" * 249 and len(label) == 48


@pytest.fixture
def asked(monkeypatch):
    from minestrone.monitor import worker_info

    info = worker_info.WorkerInfo(
        "w1@host",
        answered=True,
        pool="TaskPool",
        concurrency=2,
        processes=[11, 12],
        prefetch_count=2,
        queues=[{"name": "default", "routing_key": "tasks.#"}],
        registered=[worker_info.parse_registered("app.add [rate_limit=10/m time_limit=30]")],
        totals={"app.add": 3},
    )
    monkeypatch.setattr(worker_info, "ask", lambda app, host, timeout: info)
    return info


def test_the_worker_page_shows_what_the_worker_says_now(admin_client, asked):
    worker = add_worker("w1@host")
    page = html(admin_client.get(f"{WORKERS}{worker.pk}/change/"))
    assert "TaskPool, 2 processes (PIDs 11, 12); prefetch 2" in page
    assert "<code>default</code> (tasks.#)" in page
    assert re.search(r">app.add</td><td>10/m</td><td>30</td><td>—</td>", page)
    assert "applied again by the camera to every worker that comes online" in page
    assert 'value="pool_grow"' in page and 'value="add_consumer"' in page
    assert f'href="{TASKS}?worker=w1%40host"' in page and ">History<" not in page


def test_the_worker_is_not_asked_for_a_user_who_may_not_see_it(client, monkeypatch):
    from minestrone.monitor import worker_info

    asked = []
    monkeypatch.setattr(worker_info, "ask", lambda *args: asked.append(args))
    worker = add_worker("w1@host")
    client.force_login(staff("view_taskstate"))
    assert client.get(f"{WORKERS}{worker.pk}/change/").status_code == 403
    assert asked == []


def post_command(client, worker, **data):
    url = f"{WORKERS}{worker.pk}/command/"
    return client.post(url, data, follow=True)


@pytest.mark.parametrize(
    ("data", "call", "message"),
    [
        (
            {"command": "pool_grow", "n": "2"},
            ("pool_grow", (2,), {"destination": ["w1@host"]}),
            "Grow the pool by 2",
        ),
        (
            {"command": "pool_shrink", "n": "1"},
            ("pool_shrink", (1,), {"destination": ["w1@host"]}),
            "Shrink the pool by 1",
        ),
        (
            {"command": "autoscale", "max": "4", "min": "1"},
            ("autoscale", (4, 1), {"destination": ["w1@host"]}),
            "Autoscale between 1 and 4",
        ),
        (
            {"command": "add_consumer", "queue": "reports", "binding_key": "tasks.reports.#"},
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
            "Consume from reports",
        ),
        (
            {"command": "cancel_consumer", "queue": "reports"},
            ("cancel_consumer", ("reports",), {"destination": ["w1@host"]}),
            "Stop consuming from reports",
        ),
    ],
)
def test_worker_commands_reach_the_worker_and_report(
    admin_client, control, asked, data, call, message
):
    worker = add_worker("w1@host")
    response = post_command(admin_client, worker, **data)
    [(name, args, kwargs)] = control.calls
    kwargs = {k: v for k, v in kwargs.items() if k not in ("reply", "timeout")}
    assert (name, args, kwargs) == call
    assert messages_of(response) == [f"{message}: w1@host: done."]


def test_limits_from_the_worker_page_go_to_all_and_stop_waiting_once_the_online_answered(
    admin_client, control, asked
):
    worker = add_worker("w1@host")
    add_worker("w2@host")
    post_command(admin_client, worker, command="rate_limit", task_name="app.add", rate="10/m")
    post_command(
        admin_client, worker, command="time_limit", task_name="app.add", soft="5", hard="10"
    )
    assert [(name, kwargs.get("limit")) for name, _, kwargs in control.calls] == [
        ("rate_limit", 2),
        ("time_limit", 2),
    ]


def test_a_revoke_names_the_tasks_worker_when_it_had_not_answered(admin_client, control):
    add_task("a", "STARTED", worker="w2@host")
    add_worker("w1@host")
    # the fake control answers for w1@host alone, as when the wait ended at the online count
    [message] = messages_of(act(admin_client, TASKS, "terminate_tasks", ["a"]))
    assert message == "Terminate 1 task(s): w1@host: done; w2@host: no answer yet."


def test_the_holders_of_tasks_are_the_workers_of_the_unfinished_ones():
    add_task("running", "STARTED", worker="w1@host")
    add_task("received", "RECEIVED", worker="w2@host")
    add_task("done", "SUCCESS", worker="w3@host")
    add_task("queued", "PENDING")
    ids = ["running", "received", "done", "queued", "unknown"]
    assert TaskState.objects.holders(ids) == {"w1@host", "w2@host"}


def test_limits_set_from_the_worker_page_are_recorded(admin_client, control, asked):
    from minestrone.monitor.models import TaskLimit

    worker = add_worker("w1@host")
    post_command(admin_client, worker, command="rate_limit", task_name="app.add", rate="10/m")
    post_command(
        admin_client, worker, command="time_limit", task_name="app.add", soft="5", hard="10"
    )
    limit = TaskLimit.objects.get(name="app.add")
    assert (limit.rate_limit, limit.soft_time_limit, limit.time_limit) == ("10/m", 5.0, 10.0)
    assert limit.changed_by == "admin"
    assert TaskLimit.objects.commands() == [
        ("rate_limit", ("app.add", "10/m"), {}),
        ("time_limit", ("app.add",), {"soft": 5.0, "hard": 10.0}),
    ]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"command": "autoscale", "max": "1", "min": "3"}, "minimum is above the maximum"),
        ({"command": "add_consumer", "queue": "bad queue"}, "A queue name is"),
        ({"command": "rate_limit", "task_name": "x", "rate": "fast"}, "rate"),
        ({"command": "pool_grow"}, "needs a value"),
        ({"command": "rm -rf"}, "command"),
    ],
)
def test_bad_command_values_are_refused_in_one_line(admin_client, control, asked, data, error):
    worker = add_worker("w1@host")
    [message] = messages_of(post_command(admin_client, worker, **data))
    assert message.startswith("Not sent: ") and error in message
    assert control.calls == []


def test_commands_need_the_change_permission(client, control, asked):
    worker = add_worker("w1@host")
    client.force_login(staff("view_workerstate"))
    response = client.post(f"{WORKERS}{worker.pk}/command/", {"command": "pool_grow", "n": "1"})
    assert response.status_code == 403 and control.calls == []


def test_a_word_search_counts_fewer_matches(admin_client, monkeypatch):
    from minestrone.monitor import admin_tasks

    monkeypatch.setattr(admin_tasks, "SEARCH_COUNT_CAP", 2)
    for n in range(3):
        add_task(f"w-{n}", name="app.words")
    assert "more than 2 tasks" in html(admin_client.get(f"{TASKS}?q=words"))
    assert "3 tasks" in html(admin_client.get(TASKS))  # unsearched: the paginator's own cap

