"""Worker rows: ONLINE until Celery's heartbeat expiry (plus one camera interval), OFFLINE after,
the same in every time zone."""

from datetime import UTC, datetime, timedelta

import pytest
from celery.events.state import State
from django.test import override_settings
from django.utils import timezone

from minestrone.monitor.models import WorkerState
from minestrone.monitor.snapshot import Changes, worker_row
from tests.unit.monitor import events as ev
from tests.unit.monitor.events import T0

pytestmark = pytest.mark.django_db

ZONES = ["America/New_York", "Asia/Kolkata"]


def write(events, slack=1.0):
    """Feed events to Celery's State and to Changes, and write the snapshot."""
    state = State()
    changes = Changes()
    for event in events:
        changes.add(event)
        state.event(event)
    snapshot = changes.snapshot(state.workers, slack=slack)
    WorkerState.objects.record(snapshot.workers.values())
    return state


def at(seconds):
    return datetime.fromtimestamp(T0 + seconds, tz=UTC)


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize(
    ("seconds_after_heartbeat", "online"),
    [(0.0, True), (4.9, True), (5.0, False), (5.1, False), (3600, False)],
)
def test_online_until_the_heartbeat_expires(zone, seconds_after_heartbeat, online):
    # heartbeat every 2 s, Celery's 200 % window: expires 4 s later; plus 1 s camera interval
    with override_settings(TIME_ZONE=zone), timezone.override(zone):
        write([ev.worker("heartbeat", at=10, freq=2.0)], slack=1.0)
        worker = WorkerState.objects.get()
        now = at(10 + seconds_after_heartbeat)
        assert worker.is_online(now) is online
        assert WorkerState.objects.online(now).exists() is online
        assert WorkerState.objects.offline(now).exists() is not online
        assert worker.last_heartbeat == at(10)
        assert timezone.is_aware(worker.heartbeat_expires)


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("seconds_after_heartbeat", [3.9, 4.1])
def test_without_slack_the_status_is_celerys(zone, seconds_after_heartbeat):
    with override_settings(TIME_ZONE=zone), timezone.override(zone):
        state = write([ev.worker("heartbeat", at=10, freq=2.0)], slack=0.0)
        celery_alive = (
            T0 + 10 + seconds_after_heartbeat < state.workers["w1@host"].heartbeat_expires
        )
        assert WorkerState.objects.get().is_online(at(10 + seconds_after_heartbeat)) is celery_alive


def test_the_heartbeat_time_is_when_the_camera_received_it():
    # a worker whose clock is 30 s ahead: the expiry follows the camera's clock
    write([ev.worker("heartbeat", at=40, received_at=10)])
    worker = WorkerState.objects.get()
    assert worker.last_heartbeat == at(10)
    assert worker.is_online(at(12))


def test_offline_event_makes_the_worker_offline_at_once():
    write([ev.worker("heartbeat", at=10)])
    write([ev.worker("offline", at=11)])
    worker = WorkerState.objects.get()
    assert not worker.is_online(at(11.5))
    assert worker.last_heartbeat == at(10)  # kept
    assert worker.sw_ident == "py-celery"


def test_offline_event_of_a_worker_never_seen_is_recorded():
    write([ev.worker("offline", "w9@host", at=11)])
    worker = WorkerState.objects.get()
    assert worker.hostname == "w9@host"
    assert not worker.is_online(at(11.5))


def test_online_again_after_offline():
    write([ev.worker("heartbeat", at=10), ev.worker("offline", at=11), ev.worker("online", at=12)])
    assert WorkerState.objects.get().is_online(at(13))


def test_task_events_count_as_signs_of_life():
    write([ev.worker("heartbeat", at=10)])
    write([ev.task("started", at=30)])
    assert WorkerState.objects.get().is_online(at(33))


def test_worker_details_are_recorded():
    write([ev.worker("heartbeat", at=10, active=3, processed=2**40, loadavg=[1, 0.5, 0.25])])
    worker = WorkerState.objects.get()
    assert (worker.active, worker.processed, worker.loadavg) == (3, 2**40, "1.00 0.50 0.25")
    assert (worker.sw_ident, worker.sw_ver, worker.sw_sys) == ("py-celery", "5.7.0", "Linux")
    assert worker.pid == 4242


@pytest.mark.parametrize(
    "fields",
    [
        {"freq": "often"},
        {"freq": -1},
        {"loadavg": "high"},
        {"active": "three", "processed": None, "pid": "x"},
    ],
)
def test_malformed_worker_fields_do_not_break_the_row(fields):
    write([ev.worker("heartbeat", at=10, **fields)])
    worker = WorkerState.objects.get()
    assert worker.is_online(at(11))


def test_status_property_uses_the_current_time():
    WorkerState.objects.create(
        hostname="a", heartbeat_expires=timezone.now() + timedelta(minutes=1)
    )
    WorkerState.objects.create(
        hostname="b", heartbeat_expires=timezone.now() - timedelta(seconds=1)
    )
    WorkerState.objects.create(hostname="c")
    assert {w.hostname: w.status for w in WorkerState.objects.all()} == {
        "a": "ONLINE",
        "b": "OFFLINE",
        "c": "OFFLINE",
    }


def test_a_worker_row_without_state_or_offline_time_says_only_the_hostname():
    assert worker_row("w1@host", None, None, slack=1.0) == {"hostname": "w1@host"}


def test_task_events_count_as_signs_of_life_without_celerys_task_state():
    # celerycam folds task events without giving them to Celery's State: the liveness must
    # still come from them
    state = State()
    state.event(ev.worker("heartbeat", at=10, freq=2.0))
    changes = Changes()
    changes.add(ev.task("started", at=30))  # local_received = T0 + 30.01
    WorkerState.objects.record(changes.snapshot(state.workers, slack=1.0).workers.values())
    worker = WorkerState.objects.get()
    assert worker.last_heartbeat == at(30.01)
    assert worker.is_online(at(35.0))
    assert not worker.is_online(at(35.02))


def test_a_worker_known_only_from_task_events_gets_the_default_interval():
    changes = Changes()
    changes.add(ev.task("started", "t1", at=30, hostname="w7@host"))
    WorkerState.objects.record(changes.snapshot({}, slack=0.0).workers.values())
    worker = WorkerState.objects.get()
    assert worker.is_online(at(34.0)) and not worker.is_online(at(34.02))


def test_offline_after_the_last_task_event_wins():
    state = State()
    changes = Changes()
    for event in (ev.task("started", at=30), ev.worker("offline", at=31)):
        changes.add(event)
        state.event(event)
    WorkerState.objects.record(changes.snapshot(state.workers, slack=1.0).workers.values())
    assert not WorkerState.objects.get().is_online(at(31.5))


@pytest.mark.parametrize("fields", [{"expire_window": "x"}, {"heartbeats": 5}])
def test_a_worker_whose_row_cannot_be_made_is_skipped_alone(fields, caplog):
    state = State()
    changes = Changes()
    for event in (ev.worker("heartbeat", at=10), ev.worker("heartbeat", at=10, hostname="w2")):
        changes.add(event)
        state.event(event)
    for name, value in fields.items():
        setattr(state.workers["w2"], name, value)
    snapshot = changes.snapshot(state.workers, slack=1.0)
    assert set(snapshot.workers) == {"w1@host"}
    assert "worker row of 'w2' not made" in caplog.text


def test_a_nul_in_a_hostname_is_cleaned_in_its_row():
    row = worker_row("w1\x00@host", None, offline_at=T0)
    assert row["hostname"] == "w1\ufffd@host"
