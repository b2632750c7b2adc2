"""Run a camera the way `celery events --camera` does, made fit for a supervisor.

On top of Celery's evcam: the cleanup interval is configurable; an event that cannot be read
or recorded is logged and skipped; a lost broker connection is re-opened; SIGTERM and SIGINT
stop receiving and the camera writes its last snapshot before the process exits.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

from celery import platforms
from celery.events.receiver import EventReceiver
from celery.events.snapshot import Polaroid
from kombu.exceptions import OperationalError as KombuOperationalError

from minestrone.monitor import events
from minestrone.monitor.errors import MalformedEvent, UnknownEvent

logger = logging.getLogger(__name__)

RECONNECT_DELAYS = (1.0, 2.0, 5.0, 10.0)


class Receiver(EventReceiver):
    """Celery's event receiver, handing a message it cannot read on as a malformed event."""

    connect_max_retries = 1

    def event_from_message(self, body, *args, **kwargs) -> tuple:
        """Celery's conversion, or (None, {"malformed": body}) when the body is not an event."""
        try:
            return super().event_from_message(body, *args, **kwargs)
        except Exception:
            return None, {"malformed": body}


class EventHandler:
    """Check each event, then hand it to the camera; log and skip what cannot be recorded."""

    def __init__(self, camera):
        self.camera = camera
        # a camera of ours folds events itself; any other Polaroid gets them through its State
        self.take = getattr(camera, "handle", None) or camera.state.event
        self._unknown_types: set[str] = set()

    def __call__(self, event) -> None:
        """Handle one event; never raises."""
        try:
            events.check(event)
        except UnknownEvent as exc:
            kind = str(event.get("type"))
            if kind not in self._unknown_types:
                self._unknown_types.add(kind)
                logger.info("skipping %s (logged once per type)", exc)
            return
        except MalformedEvent as exc:
            logger.warning("skipping a malformed event: %s: %.300r", exc, event)
            return
        try:
            self.take(event)
        except Exception:
            logger.exception("skipping an event the camera could not take: %.300r", event)


@dataclass
class CameraOptions:
    """How the camera runs: celerycam's options."""

    camera: Callable | str
    freq: float
    maxrate: str | None = None
    cleanup_freq: float | None = None
    loglevel: str = "INFO"
    logfile: str | None = None
    pidfile: str | None = None


class CameraRunner:
    """Receive events into a camera until stopped, then let it write its last snapshot."""

    receiver_class = Receiver

    def __init__(self, app, options: CameraOptions, sleep=time.sleep):
        self.app = app
        self.options = options
        self.sleep = sleep
        self.stopping = False
        self._receiver: Receiver | None = None

    def stop(self, *_signal_args) -> None:
        """Ask the receive loop to stop (safe in a signal handler)."""
        self.stopping = True
        if self._receiver is not None:
            self._receiver.should_stop = True

    def install_signal_handlers(self) -> None:
        """Stop cleanly on SIGTERM (supervisor) and SIGINT (Ctrl-C)."""
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def make_camera(self, state) -> Polaroid:
        """Instantiate the camera class with the options."""
        from celery.utils.imports import instantiate

        options = self.options
        return instantiate(
            options.camera,
            state,
            app=self.app,
            freq=options.freq,
            maxrate=options.maxrate,
            cleanup_freq=options.cleanup_freq,
        )

    def run(self) -> None:
        """Take the pid file, set up logging, then serve until stopped."""
        options = self.options
        if options.pidfile:
            platforms.create_pidlock(options.pidfile)
        self.app.log.setup_logging_subsystem(options.loglevel, options.logfile)
        self.serve()

    def serve(self) -> None:
        """Start the camera, receive events until stopped, then write the last snapshot."""
        options = self.options
        state = self.app.events.State()
        camera = self.make_camera(state)
        logger.info(
            "camera %s: a snapshot every %s s (max rate %s), cleanup every %s s",
            type(camera).__name__,
            camera.freq,
            options.maxrate or "none",
            camera.cleanup_freq,
        )
        with camera:
            self.receive(EventHandler(camera))
        logger.info("camera stopped")

    def receive(self, handler: Callable) -> None:
        """Receive events until stopped, reconnecting to the broker when the connection fails."""
        failures = 0
        while not self.stopping:
            connection = self.app.connection_for_read()
            try:
                self._receiver = self.receiver_class(
                    connection, handlers={"*": handler}, app=self.app
                )
                if self.stopping:
                    break
                self._receiver.capture(limit=None, timeout=None, wakeup=True)
                failures = 0
            except (*connection.connection_errors, OSError, KombuOperationalError) as exc:
                if self.stopping:
                    break
                delay = RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)]
                failures += 1
                logger.warning("broker connection lost (%s); reconnecting in %s s", exc, delay)
                self._wait(delay)
            finally:
                self._receiver = None
                connection.release()

    def _wait(self, seconds: float) -> None:
        """Sleep in tenths of a second, so that a stop request is not kept waiting."""
        for _ in range(round(seconds / 0.1)):
            if self.stopping:
                return
            self.sleep(0.1)
