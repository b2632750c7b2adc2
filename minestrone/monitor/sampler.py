"""The queues' depths read from the broker in a thread of their own, off the camera's write path:
a broker that is slow to answer (a management API timeout, a connection retried) never delays
a snapshot."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from minestrone.monitor import events

logger = logging.getLogger("minestrone.monitor.camera")

# Seconds between two reads of the queues' depths from the broker (the dashboard's chart).
QUEUE_SAMPLE_SECONDS = 15.0


class QueueSampler:
    """Starts a read of the queues' depths when one is due and none is under way; the store's
    ``record_queue_depths(at, depths)`` keeps it."""

    def __init__(self, app, store, clock: Callable[[], float], monotonic: Callable[[], float]):
        self.app = app
        self.store = store
        self.clock = clock
        self.monotonic = monotonic
        self._next = 0.0
        self._thread: threading.Thread | None = None

    def maybe_start(self) -> None:
        """Start a sample in the background if one is due; never blocks, never raises."""
        record = getattr(self.store, "record_queue_depths", None)
        now = self.monotonic()
        busy = self._thread is not None and self._thread.is_alive()
        if record is None or busy or now < self._next:
            return
        self._next = now + QUEUE_SAMPLE_SECONDS
        at = events.epoch_datetime(self.clock())
        self._thread = threading.Thread(
            target=self._sample, args=(record, at), name="queue-sampler", daemon=True
        )
        self._thread.start()

    def _sample(self, record: Callable[[datetime, object], None], at: datetime) -> None:
        try:
            from minestrone.monitor.broker import queue_depths

            record(at, queue_depths(self.app))
        except Exception as exc:
            logger.warning("queue depths not sampled: %s", exc)
        finally:
            release = getattr(self.store, "release", None)
            if release is not None:
                release()  # this thread's database connection: it ends with the thread

    def join(self, timeout: float | None = None) -> None:
        """Wait for the sample under way, if any."""
        if self._thread is not None:
            self._thread.join(timeout)
