"""Benchmark a zero-downtime redeploy of this repository through platform_sim's router.

Pushes a copy of the repository, measures the requests per second the site serves through the
router with no redeploy (the baseline), then pushes a one-line template change while the same
clients keep sending requests: requests per second during the redeploy, failed requests (goal:
0), and the time from the start of the push until the new code serves. Prints JSON; leaves
nothing behind.

    .venv/bin/python -m bench.redeploy [--clients 4] [--baseline-seconds 10] [--keep-output]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from platform_sim.address import LOOPBACK  # noqa: E402
from platform_sim.builder import upload  # noqa: E402

APP = "bench-redeploy"
COPY_SKIPS = [".venv", ".tox", ".ruff_cache", ".pytest_cache", "node_modules"]
TEMPLATE = "minestrone/templates/base.html"
MARKER = "<!-- bench: version {} -->"


@dataclass
class Sample:
    """When a request ended, whether it succeeded, how long it took, what it showed, and
    which client sent it."""

    ended: float
    ok: bool
    seconds: float
    new_code: bool
    client: int = 0


@dataclass
class Load:
    """Clients sending GET / through the router, each a new connection, until stopped."""

    port: int
    clients: int
    marker: str = ""
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._client, args=(n,)) for n in range(self.clients)
        ]

    def _client(self, index: int) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            ok, body = False, b""
            try:
                connection = http.client.HTTPConnection(LOOPBACK, self.port, timeout=30)
                connection.request("GET", "/")
                response = connection.getresponse()
                body = response.read()
                ok = response.status == 200
                if not ok:
                    self._error(f"HTTP {response.status}")
                connection.close()
            except (OSError, http.client.HTTPException) as exc:
                self._error(repr(exc))
            ended = time.monotonic()
            new = bool(self.marker) and self.marker.encode() in body
            with self._lock:
                self.samples.append(Sample(ended, ok, ended - started, new, index))

    def _error(self, text: str) -> None:
        with self._lock:
            self.errors.append(text)

    def start(self) -> None:
        """Start every client."""
        for thread in self._threads:
            thread.start()

    def wait_for_each_client(self, after: float, timeout: float = 120) -> float:
        """Wait until every client has had a request end since ``after`` (or ``timeout``
        passed); the time it returns."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                served = {sample.client for sample in self.samples if sample.ended >= after}
            if len(served) >= self.clients:
                break
            time.sleep(0.05)
        return time.monotonic()

    def stop(self) -> None:
        """Stop every client and wait for its last request."""
        self._stop.set()
        for thread in self._threads:
            thread.join()


def summary(samples: list[Sample], start: float, end: float) -> dict:
    """Requests that ended in [start, end]: count, rate, failures, latencies."""
    window = [s for s in samples if start <= s.ended <= end]
    latencies = sorted(s.seconds for s in window if s.ok) or [0.0]
    seconds = max(end - start, 1e-9)
    return {
        "seconds": round(seconds, 2),
        "requests": len(window),
        "failed": sum(not s.ok for s in window),
        "rps": round(len(window) / seconds, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 1),
        "p95_ms": round(1000 * latencies[int(0.95 * (len(latencies) - 1))], 1),
        "max_ms": round(1000 * latencies[-1], 1),
    }


def cli(home: Path, *args: str, show: bool = False) -> str:
    """Run ``python -m platform_sim -A APP ARGS``; its output (raises if it fails)."""
    env = {**os.environ, "PLATFORM_SIM_HOME": str(home)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-m", "platform_sim", "-A", APP, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if show:
        sys.stderr.write(result.stdout + result.stderr)
    if result.returncode != 0:
        raise RuntimeError(f"platform_sim {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def set_marker(folder: Path, version: int) -> str:
    """Put a version marker at the top of every page (the one-line change)."""
    path = folder / TEMPLATE
    lines = path.read_text().splitlines(keepends=True)
    marker = MARKER.format(version)
    lines = [line for line in lines if not line.startswith("<!-- bench: ")]
    lines.insert(1, marker + "\n")
    path.write_text("".join(lines))
    return marker


def measure(home: Path, folder: Path, options: argparse.Namespace) -> dict:
    """The baseline, then the redeploy under the same load."""
    cli(home, "env", "set", f"DJANGO_SECRET_KEY={secrets.token_urlsafe(40)}")
    set_marker(folder, 1)
    cli(home, "push", str(folder), show=options.keep_output)
    port = json.loads(cli(home, "info", "--json"))["router"]["port"]["www"]
    load = Load(port, options.clients)
    load.start()
    time.sleep(2)  # warm up: every gunicorn worker has served, and each client at least once
    load.wait_for_each_client(after=0.0)
    started = time.monotonic()
    time.sleep(options.baseline_seconds)
    # on a loaded machine one request can outlast a short baseline: it lasts until each client's
    # request has ended in it, so its rate is never read from an empty window
    ended = load.wait_for_each_client(after=started)
    baseline = summary(load.samples, started, ended)
    load.marker = set_marker(folder, 2)
    pushed = time.monotonic()
    cli(home, "push", str(folder), show=options.keep_output)
    done = time.monotonic()
    time.sleep(1)
    load.stop()
    during = summary(load.samples, pushed, done)
    first_new = min((s.ended for s in load.samples if s.new_code), default=None)
    return {
        "baseline": baseline,
        "during_redeploy": during,
        "rps_ratio": round(during["rps"] / baseline["rps"], 2) if baseline["rps"] else None,
        "failed_requests": during["failed"] + baseline["failed"],
        "errors": sorted(set(load.errors))[:10],
        "push_seconds": round(done - pushed, 2),
        "new_code_serving_after_seconds": (
            round(first_new - pushed, 2) if first_new is not None else None
        ),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4)")
    parser.add_argument(
        "--baseline-seconds",
        type=float,
        default=10.0,
        help="least length of the baseline (default 10)",
    )
    parser.add_argument("--keep-output", action="store_true", help="show push output on stderr")
    options = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="platform_sim-bench-"))
    folder = scratch / "src" / "minestrone"
    upload.copy_tree(ROOT, folder, upload.ignore_patterns(ROOT) + COPY_SKIPS)
    home = scratch / "home"
    result = {"app": APP, "cpus": os.cpu_count(), "clients": options.clients}
    try:
        result.update(measure(home, folder, options))
    except RuntimeError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    finally:
        if (home / APP).exists():
            cli(home, "destroy", "-y")
        shutil.rmtree(scratch, ignore_errors=True)
    result["goal"] = {"failed_requests": 0}
    result["met"] = result["failed_requests"] == 0
    print(json.dumps(result, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
