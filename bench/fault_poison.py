"""The fault bench's poison job: one job whose pool process dies each time a worker runs it,
until RabbitMQ's delivery limit moves it to the dead-letter queue (minestrone/queues.py).

The app has no task that crashes, so the crash is played from outside: the bench sends one
``lazy_job`` of a name of its own, asks the workers through Celery's remote control which pool
process runs it (``inspect active``: each running job with its arguments and ``worker_pid``,
the pid inside the worker's namespace) and SIGKILLs that process, at each delivery; the worker
gives the job back (``task_reject_on_worker_lost``) and RabbitMQ delivers it again, until the
limit.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.dead_letters import DeadLetters, copies_of
from bench.fault_errors import BenchError
from bench.fault_load import DirectSender
from platform_sim.faults import sites
from platform_sim.hosts.sockets import status_field

PROGRAM = "djcelery"
DEAD_LETTERED_WITHIN = 120.0  # from the poison's send until it is in the dead-letter queue
INSPECT_TIMEOUT = 1.0
LOOK_EVERY = 0.5  # seconds between two looks at the dead-letter queue
POLL = 0.05  # seconds between two inspect replies (a job runs 1 s: it must be caught in it)


def running_pids(replies: dict | None, name: str) -> list[int]:
    """The pool processes (pids inside their worker's namespace) running the job ``name``, from
    an ``inspect().active()`` reply: ``{worker: [request info…]}``."""
    return [
        request["worker_pid"]
        for requests in (replies or {}).values()
        for request in requests or []
        if isinstance(request.get("args"), list | tuple)
        and list(request["args"]) == [name]
        and isinstance(request.get("worker_pid"), int)
    ]


@dataclass
class Poisoner:
    """Kills the pool process running the job ``name`` at each of its runs, until the
    dead-letter queue holds it; ``kill(pid, what)`` gets the pid inside the worker."""

    name: str
    active: Callable[[], dict | None]  # an inspect().active() reply
    dead_lettered: Callable[[], int]  # copies of the job in the dead-letter queue
    kill: Callable[[int, str], None]
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    killed: list[int] = field(default_factory=list)

    def run(self, within: float) -> int:
        """Kill each run until the job is dead-lettered; how many copies of it are there."""
        deadline = self.clock() + within
        next_look = self.clock()
        while True:
            for pid in running_pids(self.active(), self.name):
                if pid not in self.killed:
                    run = len(self.killed) + 1
                    self.kill(pid, f"the pool process running the poison job (run {run})")
                    self.killed.append(pid)
            if self.clock() >= next_look:
                copies = self.dead_lettered()
                if copies:
                    return copies
                next_look = self.clock() + LOOK_EVERY
            if self.clock() > deadline:
                raise BenchError(
                    f"the poison job {self.name} was not dead-lettered within {within:g} s; its "
                    f"pool process was killed {len(self.killed)} time(s) (RabbitMQ dead-letters "
                    "a job delivered MINESTRONE_DELIVERY_LIMIT times more, 5 by default; a run "
                    "that completed before its kill ends the poison)"
                )
            self.sleep(POLL)


def pool_pid(workers: sites.Instance, inside: int) -> int | None:
    """This machine's pid of the pool process ``inside`` names in the worker (None: no pool
    process of the worker has that pid)."""
    for pid in workers.pool_children(PROGRAM):
        with contextlib.suppress(OSError, IndexError):
            if status_field(pid, "NSpid").split()[-1] == str(inside):
                return pid
    return None


def poison_job(site, faults, seconds: float) -> dict:  # noqa: ANN001
    """Send a poison job; SIGKILL its pool process at each run until it is dead-lettered."""
    workers = site.workers()
    name = f"poison-{secrets.token_hex(3)}"
    client = DirectSender(site.instance("broker")["url"])
    letters = DeadLetters(client.app)
    try:
        hosts = [host for reply in client.app.control.ping(timeout=2) for host in reply]
        if not hosts:
            raise BenchError("no worker answered a ping: the poison job would not be seen")
        inspect = client.app.control.inspect(
            destination=hosts, limit=len(hosts), timeout=INSPECT_TIMEOUT
        )
        before = letters.count()

        def dead_lettered() -> int:
            return copies_of(letters.letters(), name) if letters.count() > before else 0

        def kill(inside: int, what: str) -> None:
            pid = pool_pid(workers, inside)
            if pid is None:
                raise BenchError(f"the poison job's pid {inside} is no pool process of {PROGRAM}")
            faults.kill(pid, what)

        error = client.send(name)
        if error:
            raise BenchError(f"the poison job was not sent: {error}")
        poisoner = Poisoner(name, inspect.active, dead_lettered, kill)
        copies = poisoner.run(DEAD_LETTERED_WITHIN)
        return {"poison": name, "poison_runs": len(poisoner.killed), "poison_dead_lettered": copies}
    finally:
        client.close()
