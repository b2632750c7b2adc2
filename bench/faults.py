"""The fault suite: push this repository with platform_sim, send uniquely named 1 s jobs (through
the editor form and directly to the broker), inject one fault per scenario while they run, wait
until quiet, and print one row per scenario.

    .venv/bin/python -m bench.faults [--jobs N] [--scenario NAME…] [--json] [--pushed HOME]

Columns: sent (taken by the site or the broker), completed at least once, lost (sent, never
completed), completed more than once, seconds from the fault's end until a job that started
after it completed, seconds the site (GET /active/) answered 503, camera rows missing (jobs
completed whose TaskState row is not SUCCESS). Completions are counted from the workers' log
lines "Lazy job … completed" (``platform_sim logs workers``); the camera's rows are counted
apart. On RabbitMQ each row also says how many jobs reached the dead-letter queue
(``dead_lettered``): none, but in cluster-poison-job its one poison job (bench/fault_poison.py),
which is not among the jobs sent. Every fault is undone and the app destroyed at the end, on
Ctrl-C and on SIGTERM.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backing_services.errors import ServiceError  # noqa: E402
from bench import fault_cluster, fault_poison  # noqa: E402
from bench.dead_letters import DeadLetters  # noqa: E402
from bench.fault_errors import BenchError  # noqa: E402
from bench.fault_load import (  # noqa: E402
    Completions,
    DirectSender,
    FormSender,
    Probe,
    Sender,
    camera_states,
    log,
)
from bench.push import set_instances, set_kinds  # noqa: E402
from platform_sim.apps import app_paths  # noqa: E402
from platform_sim.builder import upload  # noqa: E402
from platform_sim.context import make_context  # noqa: E402
from platform_sim.errors import PlatformError, one_line  # noqa: E402
from platform_sim.faults import sites  # noqa: E402
from platform_sim.faults.inject import FaultError, Faults, Interrupted  # noqa: E402
from platform_sim.ops import info as app_info  # noqa: E402
from platform_sim.output import QuietPrinter  # noqa: E402

APP = "bench-faults"
COPY_SKIPS = [".venv", ".tox", ".ruff_cache", ".pytest_cache", "node_modules"]
JOB_SECONDS = "1"
FAULT_AFTER = 4.0  # seconds of load before the fault
QUIET_WITHIN = 240.0  # after the fault, every sent job must have completed within this
CAMERA_WITHIN = 30.0
FOLLOW_WITHIN = 120.0  # until the workers' log is followed
DEFAULT_KINDS = {"db": "postgresql", "broker": "rabbitmq"}  # the repository's dotcloud.yml


def failure_text(output: str, limit: int = 40) -> str:
    """platform_sim's error line and the details under it (a failed step's or server's log
    tail), at most ``limit`` lines; without an error line, the output's last lines."""
    lines = output.strip().splitlines()
    starts = [n for n, line in enumerate(lines) if line.startswith("platform_sim: error:")]
    chosen = lines[starts[-1] :] if starts else lines[-limit:]
    return "\n".join(chosen[:limit]).removeprefix("platform_sim: error: ")


@dataclass
class Deployment:
    """The pushed app: its state folder, the CLI, what ``info --json`` says."""

    home: Path
    source: Path
    env: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.env = {**os.environ, "PLATFORM_SIM_HOME": str(self.home)}
        self.env.pop("DJANGO_SETTINGS_MODULE", None)

    root = property(lambda self: self.home / APP)

    def cli(self, *args: str, timeout: float = 900) -> str:
        """Run ``python -m platform_sim -A APP ARGS``; its output (BenchError if it fails)."""
        result = subprocess.run(
            [sys.executable, "-m", "platform_sim", "-A", APP, *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
        if result.returncode != 0:
            said = failure_text(result.stderr or result.stdout)
            raise BenchError(f"platform_sim {args[0]} failed: {said}")
        return result.stdout

    def info(self) -> dict:
        """What ``info --json`` says, read through the library (no CLI run: BenchError if not)."""
        # the health checks ask every second; a CLI run costs a third of a CPU-second to start
        try:
            context = make_context(app_paths(APP, self.env), QuietPrinter(), self.env)
            return json.loads(app_info.as_json(app_info.describe(context, None)))
        except (PlatformError, ServiceError, OSError, ValueError) as error:
            raise BenchError(f"platform_sim info failed: {one_line(str(error))}") from error

    def instance(self, service: str, described: dict | None = None) -> dict:
        """Instance 0 of a code service, or the data service's entry (in ``described``, an
        ``info`` already read, else in a new one)."""
        return (described or self.info())["services"][service]["instances"][0]

    def workers(self, described: dict | None = None) -> sites.Instance:
        """Instance 0 of ``workers`` (in ``described``, else in a new ``info``)."""
        return sites.Instance(Path(self.instance("workers", described)["home"]))

    def data_folder(self, service: str) -> Path:
        """A data service's folder in the app's state."""
        return self.root / "services" / service

    def host(self, service: str):  # noqa: ANN201
        """The network endpoint of a data service or of instance 0 of a code service."""
        entry = self.instance(service)
        key = f"services-{service}" if "host" in entry else sites.instance_key(Path(entry["home"]))
        return sites.endpoint(self.root, key)

    def push(self) -> None:
        """Set the secret and 1 s jobs (queued through the form faster than an anonymous
        visitor may: no rate limit), push."""
        self.cli(
            "env",
            "set",
            f"DJANGO_SECRET_KEY={secrets.token_urlsafe(40)}",
            f"SOUP_LAZY_JOB_SECONDS={JOB_SECONDS}",
            "SOUP_ANONYMOUS_JOB_RATE=0",
        )
        self.cli("push", str(self.source))

    def healthy(self, timeout: float = 180) -> None:
        """Wait until the data services answer and djcelery and celerycam run."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                described = self.info()
                data_ok = all(
                    node["status"] == "running"
                    for s in ("db", "broker")
                    for node in described["services"][s]["instances"]
                )
                workers = self.workers(described)
                if data_ok and all(
                    workers.state(p) == "RUNNING" for p in ("djcelery", "celerycam")
                ):
                    return
            except (BenchError, OSError, KeyError, IndexError):
                pass
            if time.monotonic() > deadline:
                raise BenchError(f"the app was not healthy again within {timeout:g} s")
            time.sleep(1)

    def destroy(self) -> None:
        """Destroy the app (nothing left)."""
        if (self.root / "app.json").exists():
            subprocess.run(
                [sys.executable, "-m", "platform_sim", "-A", APP, "destroy", "-y"],
                cwd=ROOT,
                env=self.env,
                capture_output=True,
                check=False,
                timeout=300,
            )


# --- scenarios: each injects its fault through ``faults`` and returns when the fault is over ---
# (with what else its row should say, if anything)

Scenario = Callable[[Deployment, Faults, float], dict | None]


def _wait_state(instance: sites.Instance, program: str, wanted: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while instance.state(program) != wanted:
        if time.monotonic() > deadline:
            raise BenchError(f"{program} was not {wanted} within {timeout:g} s")
        time.sleep(0.2)


def pool_child_kills(site: Deployment, faults: Faults, seconds: float) -> None:
    """SIGKILL a pool process of the worker (one running a job) every few seconds."""
    workers = site.workers()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pool = workers.pool_children("djcelery")
        if pool:
            faults.kill(pool[0], "a djcelery pool process")
        time.sleep(3)


def worker_main_kills(site: Deployment, faults: Faults, seconds: float) -> None:
    """SIGKILL the worker's main process each time it runs again (supervisord restarts it)."""
    workers = site.workers()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        _wait_state(workers, "djcelery", "RUNNING", 60)
        faults.kill(workers.program_pid("djcelery"), "djcelery's main process")
        time.sleep(2)


def crash_loop_into_fatal(site: Deployment, faults: Faults, seconds: float) -> None:
    """SIGKILL the worker as soon as it starts, until supervisord gives up (FATAL)."""
    workers = site.workers()
    deadline = time.monotonic() + 120
    while workers.state("djcelery") != "FATAL":
        if time.monotonic() > deadline:
            raise BenchError("djcelery never reached FATAL")
        with contextlib.suppress(FaultError):  # between two starts: nothing to kill
            faults.kill(workers.program_pid("djcelery"), "djcelery as it starts")
        time.sleep(0.1)


def broker_kill(site: Deployment, faults: Faults, seconds: float) -> None:
    """SIGKILL RabbitMQ's beam.smp; the broker's host restarts it (no redeploy)."""
    faults.kill(sites.server_main(site.data_folder("broker"), "rabbitmq"), "beam.smp")


def database_kill(site: Deployment, faults: Faults, seconds: float) -> None:
    """SIGKILL the postmaster; the database's host restarts it."""
    faults.kill(sites.server_main(site.data_folder("db"), "postgresql"), "the postmaster")


def redis_kill(site: Deployment, faults: Faults, seconds: float) -> None:
    """SIGKILL the redis-server of a Redis broker; its host restarts it (appendfsync always)."""
    faults.kill(sites.server_main(site.data_folder("broker"), "redis"), "redis-server")


def mariadb_kill(site: Deployment, faults: Faults, seconds: float) -> None:
    """SIGKILL the mariadbd of a MySQL database; its host restarts it."""
    faults.kill(sites.server_main(site.data_folder("db"), "mysql"), "mariadbd")


def database_freeze(site: Deployment, faults: Faults, seconds: float) -> None:
    """SIGSTOP every PostgreSQL process for ``seconds``."""
    pids = sites.server_pids(site.data_folder("db"), "postgresql")
    faults.hold(faults.freeze(pids, "every postgres process"), seconds)


def broker_stop_start(site: Deployment, faults: Faults, seconds: float) -> None:
    """Stop the broker's host (its server stops cleanly) for ``seconds``, then start it."""
    from platform_sim.apps import app_paths  # noqa: PLC0415
    from platform_sim.context import make_context  # noqa: PLC0415
    from platform_sim.output import Printer  # noqa: PLC0415
    from platform_sim.services import cluster  # noqa: PLC0415

    ctx = make_context(app_paths(APP, site.env), Printer(sys.stderr), site.env)
    broker = cluster.present("broker", "rabbitmq", site.data_folder("broker"))[0]  # node 0
    fault = faults.stop_service(
        "the broker", lambda: ctx.data.stop(broker), lambda: ctx.data.ensure(broker)
    )
    faults.hold(fault, seconds)


def partition(first: str, second: str) -> Scenario:
    """A network partition between instance 0 (or the data service) of two services."""

    def scenario(site: Deployment, faults: Faults, seconds: float) -> None:
        fault = faults.partition(site.host(first), site.host(second), f"{first} | {second}")
        faults.hold(fault, seconds)

    scenario.__doc__ = f"DROP every packet between {first} and {second} for the fault's length."
    return scenario


def redeploy(site: Deployment, faults: Faults, seconds: float) -> None:
    """Redeploy (``env set``: new instances beside the old, old workers warm-shut down)."""
    site.cli("env", "set", f"BENCH_FAULTS_ROUND={secrets.token_hex(3)}")


@dataclass(frozen=True)
class Plan:
    """A scenario, its fault's length in the full bench, the kinds of ``db`` and ``broker``
    and the broker's nodes it needs pushed."""

    run: Scenario
    seconds: float
    kinds: tuple[tuple[str, str], ...] = tuple(DEFAULT_KINDS.items())
    broker_nodes: int = 1

    @property
    def setup(self) -> tuple[tuple[tuple[str, str], ...], int]:
        """What the app must be pushed with: kinds and broker nodes (one push per setup)."""
        return self.kinds, self.broker_nodes


SCENARIOS: dict[str, Plan] = {
    "worker-pool-child-kill": Plan(pool_child_kills, 15),
    "worker-main-kill": Plan(worker_main_kills, 20),
    "worker-crash-into-fatal": Plan(crash_loop_into_fatal, 0),
    "broker-kill": Plan(broker_kill, 0),
    "broker-stop-start": Plan(broker_stop_start, 15),
    "database-kill": Plan(database_kill, 0),
    "database-sigstop": Plan(database_freeze, 20),
    "partition-workers-broker": Plan(partition("workers", "broker"), 30),
    "partition-www-broker": Plan(partition("www", "broker"), 30),
    "partition-workers-db": Plan(partition("workers", "db"), 30),
    "redeploy": Plan(redeploy, 0),
    "redis-kill": Plan(redis_kill, 0, (("db", "mysql"), ("broker", "redis"))),
    "mariadb-kill": Plan(mariadb_kill, 0, (("db", "mysql"), ("broker", "redis"))),
    "cluster-leader-kill": Plan(fault_cluster.leader_kill, 0, broker_nodes=fault_cluster.NODES),
    "cluster-partition": Plan(fault_cluster.node_partition, 30, broker_nodes=fault_cluster.NODES),
    "cluster-rolling-restart": Plan(
        fault_cluster.rolling_restart, 5, broker_nodes=fault_cluster.NODES
    ),
    "cluster-poison-job": Plan(fault_poison.poison_job, 0, broker_nodes=fault_cluster.NODES),
}


# --- one scenario under load ---------------------------------------------------------------


def run_scenario(
    site: Deployment, faults: Faults, name: str, jobs: int, seconds: float | None = None
) -> dict:
    """Send ``jobs`` jobs, inject scenario ``name`` while they run, wait until quiet; its row."""
    plan = SCENARIOS[name]
    seconds = plan.seconds if seconds is None else seconds
    site.healthy()
    described = site.info()
    pushed = {name: described["services"][name]["type"] for name in DEFAULT_KINDS}
    nodes = len(described["services"]["broker"].get("instances") or [None])
    if (pushed, nodes) != (dict(plan.kinds), plan.broker_nodes):
        raise BenchError(
            f"{name} needs {dict(plan.kinds)} with {plan.broker_nodes} broker node(s); the app "
            f"was pushed with {pushed} and {nodes}"
        )
    token = secrets.token_hex(3)
    names = [f"{name}-{token}-{n:03d}" for n in range(jobs)]
    # one line of history: its arrival says the follower reads the log, before any job is sent
    # (on a busy machine it starts seconds late, and would miss the first completions)
    follower = Completions(
        [sys.executable, "-m", "platform_sim", "-A", APP, "logs", "workers", "-n", "1"],
        site.env,
        str(ROOT),
    )
    if not follower.attached.wait(FOLLOW_WITHIN):
        follower.close()
        raise BenchError(f"platform_sim logs workers printed nothing within {FOLLOW_WITHIN:g} s")
    broker = described["services"]["broker"]["instances"][0]
    direct = DirectSender(broker["url"])
    letters = DeadLetters(direct.app) if pushed["broker"] == "rabbitmq" else None
    fault_over = threading.Event()
    sender = Sender(names, FormSender(described["url"]), direct, fault_over)
    probe = Probe(described["url"])
    row: dict = {"scenario": name, "jobs": jobs, "fault_seconds": seconds}
    try:
        letters_before = _dead_letter_count(letters)
        probe.start()
        sender.start()
        time.sleep(FAULT_AFTER)
        log(f"{name}: injecting the fault")
        began = time.monotonic()
        said = plan.run(site, faults, seconds) or {}
        ended = time.monotonic()
        fault_over.set()
        log(f"{name}: fault over after {ended - began:.1f} s; waiting until quiet")
        quiet = _wait_quiet(sender, follower, names)
        time.sleep(3)  # a duplicate shows up late, if at all
        probe.stop()
        sender.stop()
        counts = follower.counts(names)
        sent = list(sender.accepted)
        done = [n for n in sent if counts[n] >= 1]
        first = follower.first_after(names, ended)
        camera = _camera_missing(described, token, done)
        letters_after = _dead_letter_count(letters)
        row.update(
            sent=len(sent),
            completed=len(done),
            lost=len(sent) - len(done),
            duplicated=sum(counts[n] > 1 for n in sent),
            recovery_s=round(first - ended, 1) if first is not None else None,
            site_503_s=round(probe.seconds_503(), 1),
            camera_missing=camera[0],
            camera_missing_states=camera[1],
            unsent=len(sender.unsent),
            refused_sends=len(sender.refused),
            other_site_failures=probe.other_failures(),
            quiet=quiet,
            dead_lettered=None
            if None in (letters_before, letters_after)
            else letters_after - letters_before,
            **said,
            faults=list(faults.history),
        )
        if row["lost"]:
            row["why"] = _why_lost(row, counts, sent)
        faults.history.clear()
        return row
    finally:
        fault_over.set()
        probe.stop()
        sender.stop()
        direct.close()
        follower.close()


def _wait_quiet(sender: Sender, follower: Completions, names: list[str]) -> bool:
    deadline = time.monotonic() + QUIET_WITHIN
    while time.monotonic() < deadline:
        sending = sender.thread.is_alive()
        counts = follower.counts(names)
        if not sending and all(counts[n] for n in sender.accepted):
            return True
        time.sleep(0.5)
    return False


def _dead_letter_count(letters: DeadLetters | None) -> int | None:
    """The dead-letter queue's length (None: no such queue on this broker, or not read)."""
    if letters is None:
        return None
    try:
        return letters.count()
    except Exception:  # noqa: BLE001 - the broker may be out: the row says "not read"
        return None


def _camera_missing(described: dict, token: str, done: list[str]) -> tuple[int | None, dict]:
    """How many completed jobs have no SUCCESS row, and the states those rows show instead."""
    db = {
        **described["services"]["db"]["instances"][0],
        "kind": described["services"]["db"]["type"],
    }
    deadline = time.monotonic() + CAMERA_WITHIN
    missing: tuple[int | None, dict] = (None, {})
    while time.monotonic() < deadline:
        try:
            states = camera_states(db, token)
        except Exception:  # noqa: BLE001 - the database may still be coming back
            time.sleep(1)
            continue
        shown = [states.get(n, "no row") for n in done if states.get(n) != "SUCCESS"]
        missing = (len(shown), dict(Counter(shown)))
        if not shown:
            break
        time.sleep(2)
    return missing


def _why_lost(row: dict, counts: dict[str, int], sent: list[str]) -> str:
    lost = [n for n in sent if not counts[n]]
    if not row["quiet"]:
        return f"not completed within {QUIET_WITHIN:g} s of the fault's end: {', '.join(lost[:5])}"
    return f"never completed: {', '.join(lost[:5])}"


# --- the command -----------------------------------------------------------------------------

COLUMNS = [
    ("scenario", "scenario"),
    ("sent", "sent"),
    ("completed", "completed ≥1"),
    ("lost", "lost"),
    ("duplicated", "completed >1"),
    ("recovery_s", "first job after (s)"),
    ("site_503_s", "503 (s)"),
    ("camera_missing", "camera rows missing"),
]


def table(rows: list[dict]) -> str:
    """A Markdown table of the rows (a "why" line under a row that lost jobs)."""
    lines = [
        "| " + " | ".join(title for _, title in COLUMNS) + " |",
        "|" + "|".join("---" for _ in COLUMNS) + "|",
    ]
    for row in rows:
        cells = ["—" if row.get(key) is None else str(row.get(key)) for key, _ in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    notes = [f"- {row['scenario']}: {row['why']}" for row in rows if row.get("why")]
    notes += [
        f"- {row['scenario']}: the poison job ran {row['poison_runs']} time(s), its pool process "
        f"SIGKILLed at each, then was dead-lettered {row['poison_dead_lettered']} time(s); "
        f"jobs dead-lettered in all: {row.get('dead_lettered', '—')}"
        for row in rows
        if row.get("poison")
    ]
    return "\n".join(lines + notes)


class OneLineParser(argparse.ArgumentParser):
    """argparse whose errors are one line and exit 2."""

    def error(self, message: str):  # noqa: ANN201
        """Print one line and exit 2."""
        self.exit(2, f"bench.faults: error: {message} (see --help)\n")


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line, checked: N ≥ 1, known scenario names."""
    summary = " ".join(__doc__.split("\n\n", 1)[0].split())
    parser = OneLineParser(prog="python -m bench.faults", description=summary)
    parser.add_argument("--jobs", type=int, default=60, help="jobs per scenario (default 60)")
    parser.add_argument(
        "--scenario",
        nargs="+",
        action="extend",
        metavar="NAME",
        help=f"scenarios (default all: {', '.join(SCENARIOS)})",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--pushed",
        metavar="HOME",
        help=f"use the app {APP} already pushed under this PLATFORM_SIM_HOME; leave it there",
    )
    options = parser.parse_args(argv)
    if options.jobs <= 0:
        parser.error(f"--jobs {options.jobs}: give a number of jobs of 1 or more")
    unknown = [name for name in options.scenario or [] if name not in SCENARIOS]
    if unknown:
        parser.error(f"no scenario {unknown[0]!r}: choose among {', '.join(SCENARIOS)}")
    options.scenario = options.scenario or list(SCENARIOS)
    return options


def by_setup(names: list[str]) -> dict[tuple, list[str]]:
    """The scenarios grouped by the setup they need pushed, in order of first appearance."""
    groups: dict[tuple, list[str]] = {}
    for name in names:
        groups.setdefault(SCENARIOS[name].setup, []).append(name)
    return groups


def run_scenarios(site: Deployment, names: list[str], jobs: int, rows: list[dict]) -> None:
    """Run the scenarios one after the other on ``site``, a row each appended to ``rows``."""
    with Faults(log=log) as faults:
        for name in names:
            try:
                rows.append(run_scenario(site, faults, name, jobs))
            except (BenchError, FaultError, OSError) as exc:
                faults.undo_all()
                rows.append({"scenario": name, "lost": None, "why": f"did not run: {exc}"})
                log(f"{name}: did not run: {exc}")
                continue
            shown = [k for k, _ in COLUMNS[1:]] + ["dead_lettered"]
            log(f"{name}: {json.dumps({k: rows[-1].get(k) for k in shown})}")


@contextlib.contextmanager
def _uninterrupted():  # noqa: ANN202
    """Inside, Ctrl-C is ignored (the app's destruction runs to its end)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def main(argv: list[str] | None = None) -> int:
    """Run the scenarios; print the table (or JSON); 0 when nothing was lost."""
    options = parse(argv)
    if os.geteuid() != 0:
        print("bench.faults: error: platform_sim needs root: run it with sudo", file=sys.stderr)
        return 7
    scratch = Path(tempfile.mkdtemp(prefix="platform_sim-faults-"))
    previous = signal.signal(signal.SIGTERM, Faults._interrupt)  # noqa: SLF001
    rows: list[dict] = []
    try:
        if options.pushed:
            run_scenarios(
                Deployment(Path(options.pushed).resolve(), ROOT), options.scenario, options.jobs,
                rows,
            )
        else:
            for (kinds, nodes), names in by_setup(options.scenario).items():
                tag = "-".join(v for _, v in kinds) + f"-{nodes}"
                site = Deployment(scratch / "home", scratch / tag / "minestrone")
                try:
                    upload.copy_tree(ROOT, site.source, upload.ignore_patterns(ROOT) + COPY_SKIPS)
                    if dict(kinds) != DEFAULT_KINDS:
                        set_kinds(site.source, dict(kinds))
                    if nodes != 1:
                        set_instances(site.source, "broker", nodes)
                    log(f"pushing the app ({', '.join(f'{k} {v}' for k, v in kinds)}, "
                        f"{nodes} broker node(s))")
                    site.push()
                    run_scenarios(site, names, options.jobs, rows)
                finally:
                    with _uninterrupted():
                        site.destroy()
    except (Interrupted, KeyboardInterrupt):
        print(
            "bench.faults: interrupted: every injected fault undone, the app destroyed",
            file=sys.stderr,
        )
        return 130
    except (BenchError, FaultError) as exc:
        print(f"bench.faults: error: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        signal.signal(signal.SIGTERM, previous)
    result = {
        "app": APP,
        "cpus": os.cpu_count(),
        "job_seconds": float(JOB_SECONDS),
        "jobs": options.jobs,
        "rows": rows,
        "goal": {"lost": 0},
    }
    result["met"] = all(row.get("lost") == 0 for row in rows)
    if options.json:
        print(json.dumps(result, indent=2, sort_keys=True))
    else:
        print(table(rows))
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
