"""Events are checked, and turned into sparse observations of what they say."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from minestrone.monitor import events, states
from minestrone.monitor.errors import MalformedEvent, UnknownEvent
from minestrone.monitor.merge import TASK_RULES
from tests.unit.monitor import events as ev
from tests.unit.monitor.events import T0


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ("task-sent", "mapping"),
        ({}, "no type"),
        ({"type": 3}, "no type"),
        ({**ev.task("started"), "uuid": None}, "uuid"),
        ({**ev.task("started"), "uuid": ""}, "uuid"),
        ({**ev.task("started"), "uuid": "x" * 256}, "uuid"),
        ({**ev.task("started"), "uuid": "t\x001"}, "uuid"),  # PostgreSQL refuses NUL
        ({**ev.task("started"), "hostname": None}, "hostname"),
        ({**ev.task("started"), "timestamp": "yesterday"}, "timestamp"),
        ({**ev.task("started"), "timestamp": True}, "timestamp"),
        ({**ev.task("started"), "timestamp": float("nan")}, "out of range"),
        ({**ev.task("started"), "timestamp": 1e20}, "out of range"),
        ({**ev.task("started"), "timestamp": -1}, "out of range"),
        ({**ev.worker("heartbeat"), "hostname": 7}, "hostname"),
        ({k: v for k, v in ev.worker("heartbeat").items() if k != "timestamp"}, "timestamp"),
    ],
)
def test_malformed_events_are_refused_with_a_reason(event, message):
    with pytest.raises(MalformedEvent, match=message):
        events.check(event)


@pytest.mark.parametrize("kind", ["task-progress", "worker-custom", "bogus", "task", ""])
def test_unknown_event_types_are_refused_as_unknown(kind):
    with pytest.raises(UnknownEvent):
        events.check({**ev.task("started"), "type": kind})


def test_a_task_sent_event_needs_no_worker_hostname():
    event = ev.sent()
    del event["hostname"]
    assert events.check(event) == "task-sent"


@pytest.mark.parametrize(
    ("kind", "state", "time_column"),
    [
        ("sent", "PENDING", "sent"),
        ("received", "RECEIVED", "received"),
        ("started", "STARTED", "started"),
        ("succeeded", "SUCCESS", "finished"),
        ("failed", "FAILURE", "finished"),
        ("revoked", "REVOKED", "finished"),
        ("retried", "RETRY", None),
        ("rejected", "REJECTED", None),
    ],
)
def test_each_task_event_sets_its_state_and_time(kind, state, time_column):
    row = events.observe_task(ev.task(kind, at=2))
    when = datetime.fromtimestamp(T0 + 2, tz=UTC)
    assert row["state"] == state
    assert row["tstamp"] == when
    assert row["progress"] == states.progress(state, T0 + 2)
    time_columns = {"sent", "received", "started", "finished"} & set(row)
    assert time_columns == ({time_column} if time_column else set())
    if time_column:
        assert row[time_column] == when


def test_task_sent_gives_routing_and_no_worker():
    row = events.observe_task(ev.sent())
    assert row["exchange"] == "default"
    assert row["routing_key"] == "tasks.kitchen"
    assert row["queue"] == "default"
    assert row["name"] == "minestrone.soup.tasks.lazy_job"
    assert "worker" not in row


DELAYED = "0." * 27 + "1.tasks.kitchen"  # kombu's key of a job sent with a 1 s countdown


@pytest.mark.parametrize("exchange", ["celery_delayed_27", "app_celery_delayed_3"])
def test_a_countdown_jobs_sent_event_gives_the_key_it_was_sent_with(exchange):
    row = events.observe_task(ev.sent(routing_key=DELAYED, exchange=exchange))
    assert row["routing_key"] == "tasks.kitchen"
    assert "exchange" not in row  # a delay exchange hides the real one: nothing rather than it


def test_a_retry_sent_before_the_clients_own_sent_event_keeps_the_routing_key():
    """A retry with a countdown sends task-sent again, through the delay exchanges; on a busy
    machine it can reach the camera before the client's own task-sent event."""
    retry_sent = events.observe_task(
        ev.sent(at=3, routing_key=DELAYED, exchange="celery_delayed_27")
    )
    succeeded = events.observe_task(ev.task("succeeded", at=4))
    client_sent = events.observe_task(ev.sent(at=1))
    stored = TASK_RULES.merge(TASK_RULES.merge(retry_sent, succeeded), client_sent)
    assert (stored["routing_key"], stored["exchange"]) == ("tasks.kitchen", "default")


def test_observations_are_sparse():
    row = events.observe_task(ev.task("started"))
    assert set(row) == {"task_id", "state", "progress", "tstamp", "started", "worker"}


def test_failure_records_the_exception_as_the_result():
    row = events.observe_task(ev.task("failed", exception="KeyError('x')", traceback="tb"))
    assert row["result"] == "KeyError('x')"
    assert row["traceback"] == "tb"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-01T10:00:00+02:00", datetime(2024, 5, 1, 8, 0, tzinfo=UTC)),
        ("2024-05-01T10:00:00", datetime(2024, 5, 1, 10, 0, tzinfo=UTC)),  # naive: app's zone
        ("2024-05-01T10:00:00Z", datetime(2024, 5, 1, 10, 0, tzinfo=UTC)),
        (T0, datetime.fromtimestamp(T0, tz=UTC)),
        ("next tuesday", None),
        ("", None),
        (None, None),
        (1e30, None),
        ("9999-12-31T23:59:59-06:00", None),  # past year 9999 in UTC
        ("0001-01-01T00:00:00+01:00", None),  # before year 1 in UTC
        ("9999-12-31T23:59:59+00:00", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_eta_is_an_aware_datetime(value, expected):
    row = events.observe_task(ev.received(eta=value))
    assert row.get("eta") == expected
    if expected is not None:
        assert row["eta"].utcoffset() is not None


def test_eta_keeps_its_instant_whatever_the_offset():
    row = events.observe_task(ev.received(eta="2024-05-01T10:00:00-05:00"))
    assert row["eta"] == datetime(2024, 5, 1, 10, tzinfo=timezone(timedelta(hours=-5)))


@pytest.mark.parametrize(
    ("field", "value", "column", "expected"),
    [
        ("args", ["a", 1], "args", "['a', 1]"),  # not a repr string: repr'd
        ("args", "bad\x00byte", "args", "bad\ufffdbyte"),  # PostgreSQL refuses NUL
        ("retries", "3", "retries", None),
        ("retries", 2**40, "retries", None),  # does not fit the column
        ("retries", True, "retries", None),
        ("runtime", "fast", "runtime", None),
        ("runtime", float("inf"), "runtime", None),
        ("runtime", 2, "runtime", 2.0),
    ],
)
def test_field_values_of_the_wrong_type_are_converted_or_dropped(field, value, column, expected):
    row = events.observe_task(ev.received(**{field: value}))
    assert row.get(column) == expected


def test_a_nul_in_the_hostname_is_cleaned_in_the_worker_column():
    row = events.observe_task(ev.task("started", hostname="w1\x00@host"))
    assert row["worker"] == "w1\ufffd@host"


def test_a_naive_eta_is_read_in_the_celery_apps_time_zone():
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("America/New_York")
    row = events.observe_task(ev.sent(eta="2024-05-01T10:00:00", expires=None), zone=zone)
    assert row["eta"] == datetime(2024, 5, 1, 14, 0, tzinfo=UTC)


def test_the_workers_eta_overrides_the_clients():
    from minestrone.monitor.snapshot import Changes

    changes = Changes()
    changes.add(ev.received(at=1, eta="2024-05-01T10:00:00+00:00"))
    changes.add(ev.sent(at=0, eta="2024-05-01T12:00:00+00:00", expires="2024-05-02T00:00:00"))
    assert changes.tasks["t1"]["eta"] == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert changes.tasks["t1"]["expires"] == datetime(2024, 5, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fields", "how"),
    [
        ({"terminated": False, "signum": None, "expired": False}, "revoked"),
        ({"terminated": True, "signum": 15, "expired": False}, "terminated (SIGTERM)"),
        ({"terminated": True, "signum": 9, "expired": False}, "killed (SIGKILL)"),
        ({"terminated": True, "signum": "KILL"}, "killed (SIGKILL)"),
        ({"terminated": True, "signum": 10}, "terminated (signal 10)"),
        ({"expired": True}, "expired"),
    ],
)
def test_a_revoked_task_records_how_it_was_revoked(fields, how):
    event = ev.task("revoked", **fields)
    assert events.observe_task(event)["revocation"] == how
    assert events.observe_event(event)["detail"] == how


@pytest.mark.parametrize(
    ("event", "kind", "detail"),
    [
        (ev.sent(), "sent", "routing key tasks.kitchen"),
        (ev.task("received"), "received", None),
        (ev.task("succeeded", result="5", runtime=0.25), "succeeded", "in 0.250 s; 5"),
        (ev.task("failed", exception="ValueError('x')"), "failed", "ValueError('x')"),
        (ev.task("retried", exception="E" * 900), "retried", "E" * 500),
        (ev.task("rejected", requeue=True), "rejected", "requeued"),
    ],
)
def test_each_task_event_becomes_a_timeline_row(event, kind, detail):
    row = events.observe_event(event)
    assert (row["kind"], row["detail"], row["task_id"]) == (kind, detail, "t1")
    assert row["timestamp"] == datetime.fromtimestamp(event["timestamp"], tz=UTC)
