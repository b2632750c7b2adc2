"""celerycam's runner: malformed events skipped, broker reconnects, clean stop on SIGTERM."""

import contextlib
import logging
import os
import signal
import threading
import time

import pytest
from celery.events.state import State
from kombu import Exchange, Producer
from kombu.exceptions import OperationalError as KombuOperationalError

from minestrone.celery_app import app as celery_app
from minestrone.monitor.camera import Camera
from minestrone.monitor.runner import (
    RECONNECT_DELAYS,
    CameraOptions,
    CameraRunner,
    EventHandler,
    Receiver,
)
from tests.unit.monitor import events as ev
from tests.unit.monitor.test_camera import FakeStore, FakeTimer


def make_camera(store=None):
    return Camera(State(), freq=1.0, store=store or FakeStore(), timer=FakeTimer())


def test_the_handler_folds_task_events_and_gives_worker_events_to_celerys_state():
    store = FakeStore()
    camera = make_camera(store)
    handler = EventHandler(camera)
    handler(ev.received(at=1))
    handler(ev.task("succeeded", at=2, result="1"))
    handler(ev.worker("heartbeat"))
    assert "w1@host" in camera.state.workers  # Celery's State tracks the heartbeats
    assert len(camera.state.tasks) == 0  # but keeps no copy of the tasks
    camera.capture()
    [snapshot] = store.snapshots
    assert snapshot.tasks["t1"]["state"] == "SUCCESS"
    assert "heartbeat_expires" in snapshot.workers["w1@host"]


@pytest.mark.parametrize(
    "event",
    [
        {"malformed": b"\x00garbage"},
        {"type": "task-started", "uuid": None, "hostname": "w", "timestamp": 1.0},
        {"type": "task-started", "uuid": "x", "hostname": "w"},
        {"type": "worker-heartbeat", "timestamp": 1.0},
        None,
        "task-started",
    ],
)
def test_the_handler_logs_and_skips_malformed_events(event, caplog):
    store = FakeStore()
    camera = make_camera(store)
    with caplog.at_level(logging.WARNING):
        EventHandler(camera)(event)
    assert "skipping a malformed event" in caplog.text
    assert camera.state.event_count == 0
    camera.capture()
    assert store.snapshots == []


def test_unknown_event_types_are_logged_once_per_type(caplog):
    handler = EventHandler(make_camera())
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            handler({**ev.task("started"), "type": "task-progress"})
        handler({**ev.task("started"), "type": "custom-thing"})
    assert caplog.text.count("'task-progress'") == 1
    assert caplog.text.count("'custom-thing'") == 1


def test_a_plain_polaroid_gets_the_events_through_its_state():
    from celery.events.snapshot import Polaroid

    camera = Polaroid(State(), freq=1.0, timer=FakeTimer())
    EventHandler(camera)(ev.received(at=1))
    assert camera.state.tasks["t1"].state == "RECEIVED"


def test_an_event_the_camera_cannot_take_is_logged_and_skipped(caplog):
    class Fussy:
        def handle(self, event):
            raise KeyError("clock")

    with caplog.at_level(logging.ERROR):
        EventHandler(Fussy())(ev.received())
    assert "could not take" in caplog.text


@pytest.mark.parametrize(
    "body", ["text", 42, {"no": "type"}, {"type": "task-sent", "utcoffset": "x", "timestamp": 1}]
)
def test_the_receiver_turns_an_unreadable_body_into_a_malformed_event(body):
    receiver = Receiver.__new__(Receiver)  # only event_from_message is exercised
    receiver.clock = celery_app.clock
    receiver.adjust_clock = celery_app.clock.adjust
    receiver.forward_clock = celery_app.clock.forward
    kind, event = receiver.event_from_message(body)
    assert kind is None
    assert event == {"malformed": body}


class FlakyReceiver:
    """Fails to connect `failures` times (from capture(), as the real receiver does, with
    kombu's OperationalError once its one connection retry is spent), then receives until
    stopped."""

    failures = 2
    instances = []

    def __init__(self, connection, handlers, app):
        FlakyReceiver.instances.append(self)
        self.should_stop = False

    def capture(self, limit=None, timeout=None, wakeup=True):
        if len(FlakyReceiver.instances) <= FlakyReceiver.failures:
            raise KombuOperationalError("broker down")
        while not self.should_stop:
            time.sleep(0.01)


def test_the_runner_reconnects_with_backoff_until_stopped(caplog):
    FlakyReceiver.instances = []
    slept = []
    runner = CameraRunner(celery_app, CameraOptions(camera=Camera, freq=1.0), sleep=slept.append)
    runner.receiver_class = FlakyReceiver
    thread = threading.Thread(target=runner.receive, args=(lambda event: None,))
    with caplog.at_level(logging.WARNING):
        thread.start()
        deadline = time.monotonic() + 5
        while len(FlakyReceiver.instances) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        runner.stop()
        thread.join(5)
    assert not thread.is_alive()
    assert len(FlakyReceiver.instances) == 3
    expected = (RECONNECT_DELAYS[0] + RECONNECT_DELAYS[1]) / 0.1
    assert len(slept) == pytest.approx(expected)
    assert caplog.text.count("broker connection lost (broker down)") == 2


def test_sigterm_asks_the_runner_to_stop():
    runner = CameraRunner(celery_app, CameraOptions(camera=Camera, freq=1.0))
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        runner.install_signal_handlers()
        os.kill(os.getpid(), signal.SIGTERM)
        assert runner.stopping
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def publish(*bodies):
    """Put raw bodies on Celery's event exchange (the in-memory broker)."""
    exchange = Exchange(celery_app.conf.event_exchange, type="topic")
    with celery_app.connection_for_write() as connection:
        producer = Producer(connection.default_channel, exchange=exchange)
        for body in bodies:
            kind = body.get("type", "x") if isinstance(body, dict) else "x"
            producer.publish(body, routing_key=kind.replace("-", "."), serializer="json")


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_served_over_a_broker_events_are_recorded_and_the_stop_writes_the_last_snapshot():
    store = FakeStore()
    cameras = []

    def make_camera(state, **options):
        cameras.append(Camera(state, store=store, **options))
        return cameras[-1]

    runner = CameraRunner(
        celery_app, CameraOptions(camera=make_camera, freq=60.0, cleanup_freq=3600.0)
    )
    thread = threading.Thread(target=runner.serve)
    thread.start()
    try:
        wait_for(lambda: runner._receiver is not None)
        # the in-memory broker drops what is published before the receiver binds its queue,
        # which it does some time after it is made: a probe, sent again until it is seen
        def probe_seen():
            return "probe" in cameras[0]._changes.tasks

        deadline = time.monotonic() + 30
        while not probe_seen():
            assert time.monotonic() < deadline, "the receiver never got an event"
            publish(ev.received("probe", at=1))
            with contextlib.suppress(AssertionError):
                wait_for(probe_seen, timeout=0.5)
        publish(
            "not an event",
            {"type": "task-started"},
            ev.received("a", at=1),
            ev.task("succeeded", "a", at=2, result="1"),
            [ev.received("b", at=1), {"nonsense": True}],
        )
        wait_for(lambda: len(cameras[0]._changes.tasks) == 3)  # the malformed ones skipped
        assert store.snapshots == []  # the snapshot every 60 s has not run yet
    finally:
        runner.stop()
        thread.join(10)
    assert not thread.is_alive()
    tasks = store.tasks()  # written by the camera's cancel()
    assert tasks["a"]["state"] == "SUCCESS"
    assert tasks["b"]["state"] == "RECEIVED"
