"""The camera: snapshots handed to the store, kept while the database is down, never lost."""

import inspect
import logging
import threading

import pytest
from celery.events.state import State
from django.test import override_settings

from minestrone.errors import BrokerUnreachable
from minestrone.monitor import camera as camera_module
from minestrone.monitor.camera import FINAL_WRITE_ATTEMPTS, FINAL_WRITE_DEADLINE, Camera
from minestrone.monitor.errors import StoreUnavailable
from minestrone.monitor.models import TaskState, WorkerState
from minestrone.monitor.queue_depth import QueueDepth
from minestrone.monitor.snapshot import Snapshot
from minestrone.monitor.store import Cleanup
from tests.fakes import FakeClock
from tests.pace import quick
from tests.unit.monitor import events as ev


class FakeStore:
    """Records snapshots; fails the first `failures` writes as if the database were down."""

    def __init__(self, failures=0):
        self.failures = failures
        self.snapshots = []
        self.attempts = 0
        self.cleanups = []
        self.cleanup_error = None

    def record(self, snapshot: Snapshot):
        self.attempts += 1
        if self.failures:
            self.failures -= 1
            raise StoreUnavailable("connection refused")
        self.snapshots.append(Snapshot(dict(snapshot.tasks), dict(snapshot.workers)))

    def cleanup(self, now, between_batches=None):
        if self.cleanup_error:
            raise self.cleanup_error
        self.cleanups.append(now)
        if between_batches is not None:
            self.kept_going = between_batches()
        return Cleanup(tasks=3, workers=1)

    def tasks(self):
        merged = Snapshot()
        for snapshot in self.snapshots:
            merged.absorb(snapshot)
        return merged.tasks


class FakeTimer:
    def __init__(self):
        self.calls = []

    def call_repeatedly(self, seconds, fun):
        self.calls.append(("repeatedly", seconds, fun))
        return FakeEntry()

    def call_after(self, seconds, fun):
        self.calls.append(("after", seconds, fun))
        return FakeEntry()


class FakeEntry:
    def __call__(self):
        pass

    def cancel(self):
        pass


@pytest.fixture
def store():
    return FakeStore()


@pytest.fixture
def make_camera(store):
    def make(**kwargs):
        kwargs.setdefault("store", store)
        kwargs.setdefault("sleep", lambda seconds: None)
        kwargs.setdefault("timer", FakeTimer())
        return Camera(State(), freq=1.0, **kwargs)

    return make


def feed(camera, *events):
    for event in events:
        camera.state.event(event)


def test_a_snapshot_hands_the_changed_tasks_and_workers_to_the_store(make_camera, store):
    camera = make_camera()
    feed(camera, ev.worker("heartbeat"), ev.sent(at=0), ev.received(at=1), ev.task("started", at=2))
    assert camera.capture() is True
    [snapshot] = store.snapshots
    assert snapshot.tasks["t1"]["state"] == "STARTED"
    assert snapshot.tasks["t1"]["routing_key"] == "tasks.kitchen"
    assert set(snapshot.workers) == {"w1@host"}
    assert "heartbeat_expires" in snapshot.workers["w1@host"]


def test_only_what_changed_since_the_last_snapshot_is_written(make_camera, store):
    camera = make_camera()
    feed(camera, ev.received("a", at=1), ev.received("b", at=1))
    camera.capture()
    feed(camera, ev.task("succeeded", "b", at=2))
    camera.capture()
    camera.capture()  # nothing new: no write at all
    assert [sorted(s.tasks) for s in store.snapshots] == [["a", "b"], ["b"]]
    assert store.attempts == 2


def test_database_down_keeps_the_snapshot_and_merges_it_with_the_next(make_camera, caplog):
    store = FakeStore(failures=2)
    camera = make_camera(store=store)
    feed(camera, ev.sent(at=0), ev.received(at=1))
    with caplog.at_level(logging.WARNING):
        assert camera.capture() is False
    assert "database unavailable (connection refused): 1 tasks" in caplog.text
    feed(camera, ev.task("started", at=2), ev.received("other", at=2))
    assert camera.capture() is False
    feed(camera, ev.task("succeeded", at=3, result="1"))
    assert camera.capture() is True
    [snapshot] = store.snapshots
    assert snapshot.tasks["t1"]["state"] == "SUCCESS"
    assert snapshot.tasks["t1"]["name"] == "minestrone.soup.tasks.lazy_job"
    assert snapshot.tasks["t1"]["sent"] is not None
    assert set(snapshot.tasks) == {"t1", "other"}


def test_an_unexpected_store_error_drops_the_snapshot_instead_of_failing_forever(
    make_camera, caplog
):
    class Broken(FakeStore):
        def record(self, snapshot):
            self.attempts += 1
            if "bad" in snapshot.tasks:
                raise OverflowError("date value out of range")
            super().record(snapshot)

    store = Broken()
    camera = make_camera(store=store)
    feed(camera, ev.received("bad", at=1))
    with caplog.at_level(logging.ERROR):
        assert camera.capture() is False
    assert "snapshot not written, dropped: 1 tasks and 1 workers" in caplog.text
    feed(camera, ev.received("good", at=2))
    assert camera.capture() is True
    assert set(store.snapshots[0].tasks) == {"good"}


def test_maxrate_delays_snapshots_but_loses_nothing(make_camera, store):
    camera = make_camera(maxrate="1/h")
    feed(camera, ev.received("a", at=1))
    camera.capture()  # the one snapshot the rate allows
    feed(camera, ev.received("b", at=2))
    camera.capture()  # refused by the rate: kept for later
    assert [sorted(s.tasks) for s in store.snapshots] == [["a"]]
    camera.cancel()  # the last snapshot ignores the rate
    assert [sorted(s.tasks) for s in store.snapshots] == [["a"], ["b"]]


def test_cancel_writes_the_last_snapshot(make_camera, store):
    camera = make_camera()
    feed(camera, ev.received(at=1), ev.task("succeeded", at=2, result="1"))
    camera.cancel()
    assert store.tasks()["t1"]["state"] == "SUCCESS"
    assert camera.stopping


def test_cancel_retries_while_the_database_is_down(make_camera):
    store = FakeStore(failures=2)
    clock = FakeClock(100.0)
    camera = make_camera(store=store, sleep=clock.sleep, monotonic=clock)
    feed(camera, ev.received(at=1))
    camera.cancel()
    assert "t1" in store.tasks()
    assert clock.slept == [0.5, 1.0]


def test_cancel_gives_up_after_a_few_attempts_and_says_what_was_lost(make_camera, caplog):
    store = FakeStore(failures=100)
    clock = FakeClock(100.0)
    camera = make_camera(store=store, sleep=clock.sleep, monotonic=clock)
    feed(camera, ev.received(at=1))
    with caplog.at_level(logging.ERROR):
        camera.cancel()
    assert store.attempts == FINAL_WRITE_ATTEMPTS
    assert clock.slept == [0.5, 1.0, 2.0, 4.0]
    assert sum(clock.slept) <= FINAL_WRITE_DEADLINE
    assert "shutting down with 1 tasks and 1 workers unwritten" in caplog.text


def slow_store(clock, seconds):
    """A store that is down and takes `seconds` to say so (a connection timing out)."""

    class Slow(FakeStore):
        def record(self, snapshot):
            clock.now += seconds
            super().record(snapshot)

    return Slow(failures=100)


def test_the_final_write_gives_up_rather_than_overrun_its_deadline(make_camera, caplog):
    clock = FakeClock(100.0)
    store = slow_store(clock, 3.0)
    camera = make_camera(store=store, sleep=clock.sleep, monotonic=clock)
    feed(camera, ev.received(at=1))
    with caplog.at_level(logging.ERROR):
        camera.cancel()
    # tries at 0 and 3.5 s; a third, after a 1 s pause, would end after the deadline
    assert store.attempts == 2
    assert clock.slept == [0.5]
    assert clock.now - 100.0 <= FINAL_WRITE_DEADLINE
    assert "shutting down with 1 tasks" in caplog.text


def test_the_last_pause_is_cut_to_end_by_the_deadline(make_camera):
    clock = FakeClock(100.0)
    store = slow_store(clock, 0.25)
    camera = make_camera(store=store, sleep=clock.sleep, monotonic=clock)
    feed(camera, ev.received(at=1))
    camera.cancel()
    assert clock.slept == [0.5, 1.0, 2.0, 3.25]
    assert store.attempts == FINAL_WRITE_ATTEMPTS
    assert clock.now - 100.0 == FINAL_WRITE_DEADLINE


@override_settings(MONITOR_MAX_UNWRITTEN_TASKS=4)
def test_a_long_outage_keeps_a_bounded_snapshot_dropping_the_oldest_finished_first(
    make_camera, caplog
):
    store = FakeStore(failures=100)
    camera = make_camera(store=store)
    feed(
        camera,
        ev.task("succeeded", "done-old", at=1, result="1"),
        ev.received("running-old", at=2),
        ev.task("failed", "done-new", at=3, exception="E()"),
        ev.received("running-new", at=4),
        ev.task("succeeded", "done-newest", at=5, result="1"),
    )
    with caplog.at_level(logging.WARNING):
        assert camera.capture() is False
    assert "1 tasks dropped" in caplog.text
    assert set(camera._unwritten.tasks) == {"running-old", "running-new", "done-new", "done-newest"}
    feed(camera, ev.received("running-newest", at=6), ev.received("running-last", at=7))
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert camera.capture() is False
    assert "2 tasks dropped" in caplog.text
    assert set(camera._unwritten.tasks) == {
        "running-old",
        "running-new",
        "running-newest",
        "running-last",
    }
    feed(camera, ev.received("running-final", at=8))
    camera.capture()
    # no finished task left: the oldest others go
    assert set(camera._unwritten.tasks) == {
        "running-new",
        "running-newest",
        "running-last",
        "running-final",
    }
    assert len(camera._unwritten.workers) == 1  # workers are not capped


def test_the_unwritten_snapshot_holds_ten_thousand_tasks_by_default(make_camera):
    store = FakeStore(failures=100)
    camera = make_camera(store=store)
    assert camera.max_unwritten_tasks == 10_000


@override_settings(MONITOR_MAX_UNWRITTEN_TASKS=2)
def test_a_snapshot_that_is_written_is_never_cut(make_camera, store):
    camera = make_camera()
    feed(camera, *(ev.received(f"t{n}", at=n) for n in range(5)))
    assert camera.capture() is True
    assert len(store.snapshots[0].tasks) == 5


def test_a_malformed_event_is_skipped_by_the_callback(make_camera, store, caplog):
    camera = make_camera()
    with caplog.at_level(logging.DEBUG, logger="minestrone.monitor.camera"):
        camera.on_event(camera.state, {"type": "task-started", "uuid": None})
        camera.on_event(camera.state, ["not", "an", "event"])
    assert "event not recorded" in caplog.text
    feed(camera, ev.received(at=1))
    camera.capture()
    assert set(store.snapshots[0].tasks) == {"t1"}


def test_a_previous_state_callback_is_still_called(store):
    seen = []
    state = State(callback=lambda state, event: seen.append(event["type"]))
    camera = Camera(state, freq=1.0, store=store, timer=FakeTimer())
    state.event(ev.received(at=1))
    camera.capture()
    assert seen == ["task-received"]
    assert "t1" in store.snapshots[0].tasks


def test_install_schedules_snapshots_cleanups_and_a_first_cleanup_soon(make_camera):
    timer = FakeTimer()
    camera = make_camera(timer=timer, cleanup_freq=600.0)
    camera.install()
    assert [(kind, seconds) for kind, seconds, _ in timer.calls] == [
        ("repeatedly", 1.0),
        ("repeatedly", 600.0),
        ("after", 1.0),
    ]


@override_settings(MONITOR_CAMERA_FREQUENCY=2.5, MONITOR_CLEANUP_INTERVAL=120)
def test_frequency_and_cleanup_interval_default_to_the_settings(store):
    camera = Camera(State(), store=store, timer=FakeTimer())
    assert (camera.freq, camera.cleanup_freq) == (2.5, 120.0)


def test_cleanup_snapshots_between_batches_and_stops_when_cancelled(make_camera, store, caplog):
    camera = make_camera(clock=lambda: ev.T0)
    feed(camera, ev.received(at=1))
    with caplog.at_level(logging.INFO):
        camera.cleanup()
    assert store.cleanups[0].timestamp() == ev.T0
    assert store.kept_going is True
    assert "t1" in store.snapshots[0].tasks  # written between two batches
    assert "cleanup: deleted 3 tasks, 1 offline workers" in caplog.text
    camera.stopping = True
    camera.cleanup()
    assert store.kept_going is False


def test_cleanup_with_the_database_down_is_skipped(make_camera, store, caplog):
    camera = make_camera()
    store.cleanup_error = StoreUnavailable("down")
    with caplog.at_level(logging.WARNING):
        camera.cleanup()
    assert "cleanup skipped, database unavailable: down" in caplog.text


def test_no_event_is_lost_while_snapshots_run_concurrently(make_camera, store):
    camera = make_camera()
    tasks = 3000

    def produce():
        for n in range(tasks):
            uuid = f"t{n}"
            feed(
                camera,
                ev.received(uuid, at=n * 0.001),
                ev.task("succeeded", uuid, at=n * 0.001 + 1),
            )

    producer = threading.Thread(target=produce)
    producer.start()
    while producer.is_alive():
        camera.capture()
    producer.join()
    camera.cancel()
    recorded = store.tasks()
    assert len(recorded) == tasks
    assert {row["state"] for row in recorded.values()} == {"SUCCESS"}
    assert len(store.snapshots) > 1


def test_the_camera_module_holds_no_orm_code():
    source = inspect.getsource(camera_module)
    for word in ("objects", "django.db", "models", "filter(", "bulk_create", "cursor"):
        assert word not in source


@pytest.mark.django_db
def test_with_the_database_store_snapshots_reach_the_tables():
    camera = Camera(State(), freq=1.0, timer=FakeTimer())
    feed(
        camera,
        ev.worker("heartbeat", at=0),
        ev.sent(at=0),
        ev.received(at=1),
        ev.task("started", at=2),
    )
    camera.capture()
    feed(camera, ev.task("succeeded", at=3, result="'ok'", runtime=0.5))
    camera.cancel()
    task = TaskState.objects.get()
    assert (task.state, task.routing_key, task.worker, task.result) == (
        "SUCCESS",
        "tasks.kitchen",
        "w1@host",
        "'ok'",
    )
    assert WorkerState.objects.get().hostname == "w1@host"


def test_a_failing_shutter_keeps_the_changes_for_the_next_one(make_camera, store, monkeypatch):
    from minestrone.monitor.snapshot import Changes

    camera = make_camera()
    feed(camera, ev.received(at=1))
    original = Changes.snapshot
    monkeypatch.setattr(Changes, "snapshot", lambda self, workers, slack: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        camera.capture()
    monkeypatch.setattr(Changes, "snapshot", original)
    assert camera.capture() is True
    assert "t1" in store.snapshots[0].tasks


@pytest.mark.parametrize(("maxrate", "slack"), [(None, 1.0), ("6/m", 10.0), ("120/m", 1.0)])
def test_the_worker_expiry_outlasts_the_time_between_two_snapshots(
    make_camera, store, maxrate, slack
):
    camera = make_camera(maxrate=maxrate)
    feed(camera, ev.worker("heartbeat", at=10, freq=2.0))
    camera.capture()
    row = store.snapshots[0].workers["w1@host"]
    lasts = (row["heartbeat_expires"] - row["last_heartbeat"]).total_seconds()
    # Celery's expiry (2 s x 200%), one interval between snapshots, a margin for the write
    assert 4.0 + slack < lasts <= 4.0 + slack + camera_module.WRITE_MARGIN


def test_the_camera_reads_naive_times_in_the_celery_apps_time_zone(make_camera, store):
    from celery import Celery

    app = Celery(set_as_current=False)
    app.conf.timezone = "Asia/Kolkata"
    camera = make_camera(app=app)
    feed(camera, ev.received(at=1, eta="2024-05-01T10:00:00"))
    camera.capture()
    eta = store.snapshots[0].tasks["t1"]["eta"]
    assert eta.utcoffset() is not None and (eta.hour, eta.minute, eta.tzname()) == (10, 0, "IST")


class RecordingControl:
    """Records the commands; the named hosts answer (all of them unless told otherwise)."""

    def __init__(self, error=None, silent=()):
        self.calls, self.error, self.silent = [], error, set(silent)

    def __getattr__(self, name):
        def call(*args, destination, **kwargs):
            self.calls.append((name, args, {"destination": destination, **kwargs}))
            if self.error:
                raise self.error
            return [{host: {"ok": "done"}} for host in destination if host not in self.silent]

        return call


REPLY = {"reply": True, "timeout": 0.5}


class LimitStore(FakeStore):
    def limit_commands(self):
        return [
            ("rate_limit", ("app.add", "10/m"), {}),
            ("time_limit", ("app.add",), {"soft": 5.0, "hard": None}),
        ]


def test_recorded_limits_are_applied_again_to_a_worker_that_comes_online(make_camera, caplog):
    from types import SimpleNamespace

    camera = make_camera(store=LimitStore())
    control = RecordingControl()
    camera.app = SimpleNamespace(control=control, timezone=camera.app.timezone)
    feed(camera, ev.worker("heartbeat"))
    camera.capture()
    assert control.calls == []  # a heartbeat is not a restart
    feed(camera, ev.worker("online", hostname="w2@host"))
    with caplog.at_level(logging.INFO):
        camera.capture()
    to_w2 = {"destination": ["w2@host"], **REPLY, "limit": 1}
    assert control.calls == [
        ("rate_limit", ("app.add", "10/m"), to_w2),
        ("time_limit", ("app.add",), {**to_w2, "soft": 5.0, "hard": None}),
    ]
    assert "applied rate_limit('app.add', '10/m') again to w2@host" in caplog.text
    camera.capture()
    assert len(control.calls) == 2  # once per coming online, when it answered


def test_a_worker_that_did_not_answer_yet_is_asked_again(make_camera, caplog):
    from types import SimpleNamespace

    from minestrone.monitor.camera import REAPPLY_TRIES

    camera = make_camera(store=LimitStore())
    control = RecordingControl(silent={"w2@host"})  # its remote control does not listen yet
    camera.app = SimpleNamespace(control=control, timezone=camera.app.timezone)
    feed(camera, ev.worker("online", hostname="w2@host"))
    camera.capture()
    camera.capture()
    assert len(control.calls) == 4  # asked again at the next snapshot
    control.silent.clear()
    camera.capture()
    assert len(control.calls) == 6
    camera.capture()
    assert len(control.calls) == 6  # it answered: done
    control.silent.add("w3@host")
    feed(camera, ev.worker("online", hostname="w3@host"))
    for _ in range(REAPPLY_TRIES + 3):
        camera.capture()
    assert len(control.calls) == 6 + 2 * REAPPLY_TRIES  # bounded
    assert "limits not applied again to w3@host: it never answered" in caplog.text


def test_a_failing_reapply_never_stops_the_camera(make_camera, caplog):
    from types import SimpleNamespace

    camera = make_camera(store=LimitStore())
    camera.app = SimpleNamespace(
        control=RecordingControl(error=OSError("refused")), timezone=camera.app.timezone
    )
    feed(camera, ev.worker("online"))
    assert camera.capture() is True
    assert "not applied again to w1@host" in caplog.text


class SamplingStore(FakeStore):
    def __init__(self):
        super().__init__()
        self.samples = []

    def record_queue_depths(self, at, depths):
        self.samples.append((at, [(d.name, d.ready, d.consumers) for d in depths]))


def test_queue_depths_are_sampled_every_interval(make_camera):
    from minestrone.monitor.sampler import QUEUE_SAMPLE_SECONDS

    now = [100.0]
    store = SamplingStore()
    camera = make_camera(store=store, monotonic=lambda: now[0])
    camera.capture()
    camera.queue_sampler.join()
    camera.capture()  # too soon for a second sample
    now[0] += QUEUE_SAMPLE_SECONDS
    camera.capture()
    camera.queue_sampler.join()
    assert len(store.samples) == 2
    # the app's queue `default`, read from kombu's in-memory broker
    assert [name for name, _, _ in store.samples[0][1]] in (["default"], [])


def test_a_failing_queue_sample_never_stops_the_camera(make_camera, caplog, monkeypatch):
    from minestrone.monitor import broker

    def down(app, extra_names=()):
        raise BrokerUnreachable("refused")

    monkeypatch.setattr(broker, "queue_depths", down)
    camera = make_camera(store=SamplingStore())
    feed(camera, ev.received(at=1))
    assert camera.capture() is True
    camera.queue_sampler.join()
    assert "queue depths not sampled: refused" in caplog.text


def test_a_slow_broker_never_delays_a_snapshot(make_camera, monkeypatch):
    """Queue sampling is off the write path: the snapshot is written while the broker has not
    answered yet, and the sample is kept once it does."""
    import time

    from minestrone.monitor import broker

    answer = threading.Event()

    def slow(app, extra_names=()):
        answer.wait(60)  # a capture that waited for the broker would take all of this
        return [QueueDepth("default", 3, 1)]

    monkeypatch.setattr(broker, "queue_depths", slow)
    store = SamplingStore()
    camera = make_camera(store=store)
    feed(camera, ev.received(at=1))
    began = time.monotonic()
    assert camera.capture() is True
    assert time.monotonic() - began < quick(1, timeout=60)
    assert len(store.snapshots) == 1 and store.samples == []
    answer.set()
    camera.queue_sampler.join(5)
    assert [depths for _, depths in store.samples] == [[("default", 3, 1)]]
