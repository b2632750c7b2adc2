"""Benchmark platform_sim's push of this repository: cold, then warm after a one-line change.

Cold: no platform_sim state (package caches warm) until the site answers and the workers run;
then until the new worker answers a Celery ping (``worker_ready_seconds``, from the push's start).
Warm: the same app re-pushed after a one-line code change, until the new code serves.
Prints JSON with both times and the per-step breakdown; leaves nothing behind.

    .venv/bin/python bench/push.py [--keep-output] [--no-warmup]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from platform_sim.apps import AppPaths, AppRecord  # noqa: E402
from platform_sim.builder import upload  # noqa: E402
from platform_sim.context import make_context  # noqa: E402
from platform_sim.errors import PlatformError  # noqa: E402
from platform_sim.hosts.instance import Instance  # noqa: E402
from platform_sim.ops.info import describe  # noqa: E402
from platform_sim.ops.variables import set_variables  # noqa: E402
from platform_sim.output import Printer, QuietPrinter  # noqa: E402
from platform_sim.release.destroy import destroy  # noqa: E402
from platform_sim.release.push import push  # noqa: E402

APP = "bench"
GOALS = {"cold": 8.0, "warm": 5.0}  # issue 19: the paths users wait on
# The benchmark pushes a copy of the repository without the developer's local environments.
COPY_SKIPS = [".venv", ".tox", ".ruff_cache", ".pytest_cache", "node_modules"]
CHANGED_FILE = "minestrone/soup/views.py"
WORKERS = "workers"
PING_TIMEOUT = 0.5
WORKER_DEADLINE = 120.0


def set_kinds(folder: Path, kinds: dict[str, str]) -> None:
    """Rewrite ``folder``'s dotcloud.yml so that each named data service (``db``, ``broker``)
    is of the given type (``mysql``, ``redis``…); ValueError for a service it does not have."""
    build_file = folder / "dotcloud.yml"
    text = build_file.read_text()
    for name, kind in kinds.items():
        text, count = re.subn(rf"(?m)^({name}:\n  type: )\S+$", rf"\g<1>{kind}", text)
        if count != 1:
            raise ValueError(f"no {name} service in {build_file}")
    build_file.write_text(text)


def set_instances(folder: Path, name: str, count: int) -> None:
    """Rewrite ``folder``'s dotcloud.yml so that service ``name`` has ``instances: count``
    (a ``rabbitmq`` service of 3: a cluster); ValueError for a service it does not have."""
    build_file = folder / "dotcloud.yml"
    text, found = re.subn(
        rf"(?m)^({name}:\n  type: \S+)$", rf"\g<1>\n  instances: {count}", build_file.read_text()
    )
    if found != 1:
        raise ValueError(f"no {name} service in {build_file}")
    build_file.write_text(text)


def warm_package_caches(requirements: Path) -> None:
    """Fill pip's cache with what the build installs (the goal assumes warm caches)."""
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "-d", folder,
             "-r", str(requirements), "gunicorn>=22"],
            check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip


def site_answers(url: str) -> int:
    """The status of the site's front page."""
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback only
        return response.status


def worker_nodes(ctx) -> list[str]:  # noqa: ANN001 - a platform_sim Context
    """The Celery node names of the serving deploy's workers (named after their hosts)."""
    record = AppRecord.load(ctx.paths)
    instances = [Instance.from_json(data) for data in record.current["instances"]]
    return [f"celery@{i.hostname}" for i in instances if i.service == WORKERS]


def wait_for_a_worker(ctx) -> None:  # noqa: ANN001 - a platform_sim Context
    """Return once a worker of the serving deploy answers a Celery ping through the broker."""
    from celery import Celery

    broker = describe(ctx)["services"]["broker"]["instances"][0]["url"]
    nodes = worker_nodes(ctx)
    deadline = time.monotonic() + WORKER_DEADLINE
    with Celery("bench-push", broker=broker) as app:
        while not app.control.ping(destination=nodes, timeout=PING_TIMEOUT):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no answer to a ping from {', '.join(nodes)}")


def measure(ctx, folder: Path, *, worker: bool = False) -> dict:  # noqa: ANN001 - a Context
    """Push ``folder``; return the times (ready = before the old deploy is stopped)."""
    started = time.monotonic()
    report = push(ctx, folder)
    total = time.monotonic() - started
    after_ready = report.timings.get("stop_previous", 0.0) + report.timings.get("prune", 0.0)
    result = {
        "seconds": round(total, 2),
        "ready_seconds": round(total - after_ready, 2),
        "status": site_answers(report.url),
        "steps": report.timings,
    }
    if worker:
        wait_for_a_worker(ctx)
        result["worker_ready_seconds"] = round(time.monotonic() - started, 2)
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep-output", action="store_true", help="show push output on stderr")
    parser.add_argument("--no-warmup", action="store_true", help="skip filling pip's cache")
    options = parser.parse_args(argv)
    if not options.no_warmup:
        warm_package_caches(ROOT / "requirements.txt")
    scratch = Path(tempfile.mkdtemp(prefix="platform_sim-bench-"))
    folder = scratch / "src" / "minestrone"
    patterns = upload.ignore_patterns(ROOT) + COPY_SKIPS
    upload.copy_tree(ROOT, folder, patterns)
    os.environ["PLATFORM_SIM_HOME"] = str(scratch / "home")
    printer = Printer(sys.stderr) if options.keep_output else QuietPrinter()
    ctx = make_context(AppPaths(scratch / "home" / APP), printer)
    result = {"app": APP, "cpus": os.cpu_count(), "goals_seconds": GOALS}
    try:
        set_variables(ctx, {"DJANGO_SECRET_KEY": secrets.token_urlsafe(40)})
        result["cold"] = measure(ctx, folder, worker=True)
        changed = folder / CHANGED_FILE
        changed.write_text(changed.read_text() + "# benchmark: a one-line change\n")
        result["warm"] = measure(ctx, folder)
    except PlatformError as exc:
        print(f"bench: push failed: {exc}\n{exc.details}", file=sys.stderr)
        return 1
    except TimeoutError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    finally:
        if ctx.paths.root.exists():
            destroy(ctx)
        shutil.rmtree(scratch, ignore_errors=True)
    cold = max(result["cold"]["seconds"], result["cold"]["worker_ready_seconds"])
    result["met"] = {
        "cold": cold <= GOALS["cold"],
        "warm": result["warm"]["seconds"] <= GOALS["warm"],
    }
    print(json.dumps(result, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
