"""The events camera: a Celery Polaroid whose snapshots go to the monitor's tables in bulk.

Events are folded as they arrive (under the State's lock) into observations of the tasks and
workers that changed: through handle() when celerycam runs the camera, through the State's
event callback when `celery events --camera` does. Every `freq` seconds a shutter takes them
as a Snapshot, and the store writes it outside that lock, so receiving never waits for the
database. A snapshot the database could not take (it was unavailable) stays in memory, merged
with the next one, until a write succeeds, up to MONITOR_MAX_UNWRITTEN_TASKS tasks (the oldest
finished ones are dropped first); one that failed otherwise is logged and dropped, so that a
bad value never stops the writes. cancel() writes the last one, retrying for a few seconds.
"""

from __future__ import annotations

import logging
import threading
import time

from celery.events.snapshot import Polaroid

from minestrone.monitor import events
from minestrone.monitor.conf import setting
from minestrone.monitor.errors import MalformedEvent, StoreUnavailable
from minestrone.monitor.sampler import QueueSampler
from minestrone.monitor.snapshot import Changes, Snapshot

logger = logging.getLogger(__name__)

# The pauses between the attempts of the last write, at shutdown, and the time they all must
# fit in: less than the 10 s some supervisors wait before they kill the camera.
FINAL_WRITE_DELAYS = (0.5, 1.0, 2.0, 4.0)
FINAL_WRITE_ATTEMPTS = len(FINAL_WRITE_DELAYS) + 1
FINAL_WRITE_DEADLINE = 8.0
# Limits recorded at run time go again to a worker that came online: asked with a reply (this
# long at most), and again at the next snapshots until it answered, this many times at most.
REAPPLY_TIMEOUT = 0.5
REAPPLY_TRIES = 20
# Seconds added to a worker's expiry for the time a snapshot takes to be written.
WRITE_MARGIN = 1.0


def _database_store():
    """The default store; Django is set up first when Celery's command line started us."""
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()
    from minestrone.monitor.store import DatabaseStore

    return DatabaseStore()


class Camera(Polaroid):
    """Record each snapshot of the cluster's events in the monitor's tables."""

    clear_after = False

    def __init__(
        self,
        state,
        freq: float | None = None,
        maxrate: str | None = None,
        cleanup_freq: float | None = None,
        timer=None,
        app=None,
        store=None,
        clock=time.time,
        sleep=time.sleep,
        monotonic=time.monotonic,
    ):
        freq = float(setting("CAMERA_FREQUENCY") if freq is None else freq)
        if cleanup_freq is None:
            cleanup_freq = float(setting("CLEANUP_INTERVAL"))
        super().__init__(
            state, freq=freq, maxrate=maxrate, cleanup_freq=cleanup_freq, timer=timer, app=app
        )
        self.store = store if store is not None else _database_store()
        self.clock = clock
        self.sleep = sleep
        self.monotonic = monotonic
        max_tasks = setting("MAX_UNWRITTEN_TASKS")
        self.max_unwritten_tasks = None if max_tasks is None else int(max_tasks)
        self.stopping = False
        self._changes = Changes(zone=self.app.timezone)
        self._unwritten = Snapshot()
        self._capture_lock = threading.Lock()
        # workers that came online, with the number of tries left to give them the limits
        self._came_online: dict[str, int] = {}
        self.queue_sampler = QueueSampler(self.app, self.store, clock, monotonic)
        self._chained_callback = state.event_callback
        state.event_callback = self.on_event

    def handle(self, event) -> None:
        """Take one event from the receiver.

        A worker event goes to Celery's State, which tracks the heartbeats, and reaches the
        changes through the State's callback. A task event is folded straight into the changes
        (under the State's lock): the State's own copy of every task would cost more than the
        rest of the camera and is never read.
        """
        if str(event.get("type", "")).startswith("task-"):
            self.state.freeze_while(self._fold, event)
        else:
            self.state.event(event)

    def on_event(self, state, event) -> None:
        """The State's callback (under its lock): fold the event into the changes."""
        self._fold(event)
        if self._chained_callback is not None:
            self._chained_callback(state, event)

    def _fold(self, event) -> None:
        """Fold one event into the changes; never raises."""
        try:
            self._changes.add(event)
        except MalformedEvent as exc:
            logger.debug("event not recorded: %s", exc)
        except Exception:
            logger.exception("event not recorded: %r", event)

    def on_shutter(self, state) -> None:
        """Take the changes since the last shutter (under the State's lock); if their rows
        cannot be made, they stay for the next shutter."""
        if not self._changes:
            return
        snapshot = self._changes.snapshot(state.workers, slack=self.slack())
        for hostname in self._changes.online:
            self._came_online[hostname] = REAPPLY_TRIES
        self._changes = Changes(zone=self.app.timezone)
        self._unwritten.absorb(snapshot)

    def slack(self) -> float:
        """How long a worker row must outlast Celery's expiry: the longest time between two
        snapshots (the frequency, or the --maxrate interval if longer), plus a margin."""
        interval = self.freq
        if self.maxrate:
            interval = max(interval, 1.0 / self.maxrate.fill_rate)
        return interval + WRITE_MARGIN

    def capture(self, force: bool = False) -> bool:
        """Take a snapshot (maxrate permitting, unless forced) and write what is unwritten.

        Return True when nothing is left unwritten.
        """
        with self._capture_lock:
            if force:
                self.state.freeze_while(self.on_shutter, self.state)
            else:
                super().capture()
            written = self._write()
            self._reapply_limits()
            if not self.stopping:
                self.queue_sampler.maybe_start()  # in its own thread, every QUEUE_SAMPLE_SECONDS
            return written

    def _reapply_limits(self) -> None:
        """Send the recorded rate and time limits to the workers that came online (a worker
        forgets the limits set at run time when it restarts); never raises.

        A worker announces itself before its remote control listens, so a command sent at once
        can be lost: each host is asked with a reply, and one that did not answer every command
        is asked again at the next snapshots, REAPPLY_TRIES times at most.
        """
        hosts = sorted(self._came_online)
        commands_of = getattr(self.store, "limit_commands", None)
        if not hosts or commands_of is None:
            self._came_online.clear()
            return
        try:
            commands = commands_of()
        except Exception:
            logger.exception("limits not applied again to %s", ", ".join(hosts))
            self._came_online.clear()
            return
        answered = set(hosts)
        for command, args, kwargs in commands:
            try:
                replies = getattr(self.app.control, command)(
                    *args,
                    destination=hosts,
                    reply=True,
                    timeout=REAPPLY_TIMEOUT,
                    limit=len(hosts),
                    **kwargs,
                )
            except Exception:
                logger.exception("%s%r not applied again to %s", command, args, ", ".join(hosts))
                answered.clear()
                continue
            replied = {name for reply in replies or [] for name in reply}
            answered &= replied
            if replied:
                logger.info(
                    "applied %s%r again to %s", command, args, ", ".join(sorted(replied))
                )
        for hostname in hosts:
            tries = self._came_online.pop(hostname) - 1
            if hostname not in answered and tries > 0:
                self._came_online[hostname] = tries
            elif hostname not in answered:
                logger.warning("limits not applied again to %s: it never answered", hostname)

    def _write(self) -> bool:
        snapshot = self._unwritten
        if not snapshot:
            return True
        try:
            self.store.record(snapshot)
        except StoreUnavailable as exc:
            logger.warning(
                "database unavailable (%s): %d tasks and %d workers kept for the next snapshot",
                exc,
                len(snapshot.tasks),
                len(snapshot.workers),
            )
            self._bound_unwritten()
            return False
        except Exception:
            logger.exception(
                "snapshot not written, dropped: %d tasks and %d workers",
                len(snapshot.tasks),
                len(snapshot.workers),
            )
            self._unwritten = Snapshot()
            return False
        logger.debug("wrote %d tasks, %d workers", len(snapshot.tasks), len(snapshot.workers))
        self._unwritten = Snapshot()
        return True

    def _bound_unwritten(self) -> None:
        """Cap the tasks kept for the next write, so that a long outage cannot exhaust memory."""
        if self.max_unwritten_tasks is None:
            return
        dropped = self._unwritten.trim(self.max_unwritten_tasks)
        if dropped:
            logger.warning(
                "database still unavailable: %d tasks dropped (oldest finished first), "
                "%d kept (MONITOR_MAX_UNWRITTEN_TASKS)",
                dropped,
                len(self._unwritten.tasks),
            )

    def install(self) -> None:
        """Start the timers; the first cleanup runs one interval after the start."""
        super().install()
        self.timer.call_after(self.freq, self.cleanup)

    def on_cleanup(self) -> None:
        """Delete expired tasks and long-offline workers, snapshotting between batches."""
        now = events.epoch_datetime(self.clock())
        try:
            done = self.store.cleanup(now, between_batches=self._between_batches)
        except StoreUnavailable as exc:
            logger.warning("cleanup skipped, database unavailable: %s", exc)
            return
        except Exception:
            logger.exception("cleanup failed")
            return
        if done.tasks or done.workers:
            logger.info("cleanup: deleted %d tasks, %d offline workers", done.tasks, done.workers)

    def _between_batches(self) -> bool:
        """Keep snapshots flowing during a long cleanup; stop deleting when shutting down."""
        self.capture()
        return not self.stopping

    def cancel(self) -> None:
        """Stop the timers and write everything received so far, retrying while the database
        is unavailable, for at most FINAL_WRITE_DEADLINE seconds (as long as an attempt takes
        no longer than the slowest one so far)."""
        self.stopping = True
        super().cancel()
        deadline = self.monotonic() + FINAL_WRITE_DEADLINE
        slowest = 0.0
        for delay in (*FINAL_WRITE_DELAYS, None):
            started = self.monotonic()
            if self.capture(force=True):
                return
            now = self.monotonic()
            slowest = max(slowest, now - started)
            if delay is None:
                break
            pause = min(delay, deadline - now - slowest)
            if pause < 0:
                break
            self.sleep(pause)
        logger.error(
            "shutting down with %d tasks and %d workers unwritten: the database stayed unavailable",
            len(self._unwritten.tasks),
            len(self._unwritten.workers),
        )
