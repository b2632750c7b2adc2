"""The fault bench's poison job: one job whose pool process dies each time a worker runs it,
until RabbitMQ's delivery limit moves it to the dead-letter queue (minestrone/queues.py).

The app has no task that crashes, so the crash is played from outside: the bench sends one
``lazy_job`` of a name of its own, follows the worker's log, where each run of it starts with a
line naming its pool process (``ForkPoolWorker-N``, also that process's title), and SIGKILLs
that process at once, at each delivery; the worker gives the job back
(``task_reject_on_worker_lost``) and RabbitMQ delivers it again, until the limit. The log is
read on this machine: a 1 s job is caught even on a loaded one, where a remote-control
``inspect`` answer can come after the run has ended.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.dead_letters import DeadLetters, copies_of
from bench.fault_errors import BenchError
from bench.fault_load import DirectSender
from platform_sim.faults import sites

PROGRAM = "djcelery"
LOG = "djcelery.log"  # the program's log, in the instance's log folder
DEAD_LETTERED_WITHIN = 120.0  # from the poison's send until it is in the dead-letter queue
LOOK_EVERY = 0.5  # seconds between two looks at the dead-letter queue
POLL = 0.05  # seconds between two reads of the log (a job runs 1 s: it must be caught in it)
# A task's log line (Celery's task log format): "[time: LEVEL/ForkPoolWorker-3] task[id]: text"
STARTED = re.compile(
    r"/(?P<process>ForkPoolWorker-\d+)\] \S+: Starting the lazy job: (?P<name>\S+)$"
)


def started_by(lines: list[str], name: str) -> list[str]:
    """The pool processes (``ForkPoolWorker-N``) these log lines show starting the job ``name``."""
    found = (STARTED.search(line.rstrip()) for line in lines)
    return [match["process"] for match in found if match and match["name"] == name]


class LogFollower:
    """The lines a growing log file gains from now on, whole lines only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = path.stat().st_size if path.exists() else 0
        self.partial = b""

    def new_lines(self) -> list[str]:
        """The whole lines written since the last call."""
        try:
            with self.path.open("rb") as log:
                log.seek(self.offset)
                data = log.read()
        except FileNotFoundError:
            return []
        self.offset += len(data)
        *lines, self.partial = (self.partial + data).split(b"\n")
        return [line.decode("utf-8", "replace") for line in lines]


@dataclass
class Poisoner:
    """Kills the pool process running the job ``name`` at each of its runs, until the
    dead-letter queue holds it; ``running()`` gives the pool processes seen starting it,
    ``kill(process, what)`` kills one."""

    name: str
    running: Callable[[], list[str]]
    dead_lettered: Callable[[], int]  # copies of the job in the dead-letter queue
    kill: Callable[[str, str], None]
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    killed: list[str] = field(default_factory=list)

    def run(self, within: float) -> int:
        """Kill each run until the job is dead-lettered; how many copies of it are there."""
        deadline = self.clock() + within
        next_look = self.clock()
        while True:
            for process in self.running():
                if process not in self.killed:
                    run = len(self.killed) + 1
                    self.kill(process, f"the pool process running the poison job (run {run})")
                    self.killed.append(process)
            if self.clock() >= next_look:
                copies = self.dead_lettered()
                if copies:
                    return copies
                next_look = self.clock() + LOOK_EVERY
            if self.clock() > deadline:
                raise BenchError(
                    f"the poison job {self.name} was not dead-lettered within {within:g} s; its "
                    f"pool process was killed {len(self.killed)} time(s) (RabbitMQ dead-letters "
                    "a job delivered MINESTRONE_DELIVERY_LIMIT times more, 5 by default)"
                )
            self.sleep(POLL)


def pool_pid(workers: sites.Instance, process: str) -> int | None:
    """This machine's pid of the worker's pool process named ``process`` (``ForkPoolWorker-N``,
    in its title), or None when no pool process has that name."""
    title = f":{process}]".encode()
    for pid in workers.pool_children(PROGRAM):
        try:
            if title in Path(f"/proc/{pid}/cmdline").read_bytes():
                return pid
        except OSError:
            continue
    return None


def poison_job(site, faults, seconds: float) -> dict:  # noqa: ANN001
    """Send a poison job; SIGKILL its pool process at each run until it is dead-lettered."""
    workers = site.workers()
    name = f"poison-{secrets.token_hex(3)}"
    log = LogFollower(workers.home / "log" / LOG)
    client = DirectSender(site.instance("broker")["url"])
    letters = DeadLetters(client.app)
    try:
        before = letters.count()

        def dead_lettered() -> int:
            return copies_of(letters.letters(), name) if letters.count() > before else 0

        def kill(process: str, what: str) -> None:
            pid = pool_pid(workers, process)
            if pid is None:
                raise BenchError(f"the poison job's {process} is no pool process of {PROGRAM}")
            faults.kill(pid, what)

        error = client.send(name)
        if error:
            raise BenchError(f"the poison job was not sent: {error}")
        poisoner = Poisoner(name, lambda: started_by(log.new_lines(), name), dead_lettered, kill)
        copies = poisoner.run(DEAD_LETTERED_WITHIN)
        return {"poison": name, "poison_runs": len(poisoner.killed), "poison_dead_lettered": copies}
    finally:
        client.close()
