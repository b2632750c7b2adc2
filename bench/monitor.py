"""Benchmark the monitor's pages on a big table, and what polling clients cost the site.

    python -m bench.monitor [--rows 1000000] [--runs 20] [--pollers 20] [--seconds 15]

Starts its own PostgreSQL through backing_services, fills TaskState with `--rows` tasks over
three days (bench.admin_page's mix), then:

1. times the dashboard (hour, day) and the live partials (Tasks rows, Workers rows, dashboard
   fragment) and the metrics in-process, p50/p95 per request; the editor page is the baseline;
   the day's first view, which sums its settled hours up, is timed once on its own; then
   the API (`/api/tasks?limit=100`, `/api/task/info/<id>` of random tasks, with a bearer
   token) and every kind of Tasks admin search, a word that matches nothing included;
2. serves the site with gunicorn (2 workers) and measures the editor's requests per second
   with 4 clients, alone and while `--pollers` dashboards poll every 10 s as the page does.

The metrics are timed without their queue depths (no broker here); the /active/ page is left
out: its cost is the workers' reply time, bounded by SOUP_INSPECT_TIMEOUT, not the database.
Prints one JSON object; leaves nothing running.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POLL_SECONDS = 10.0  # the dashboard's own polling interval
CLIENTS = 4


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The benchmark's options."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.monitor", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="TaskState rows")
    parser.add_argument("--runs", type=int, default=20, help="timed requests per page")
    parser.add_argument("--pollers", type=int, default=20, help="polling dashboards")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each load phase")
    return parser.parse_args(argv)


def percentiles(times: list[float]) -> dict:
    """p50 and p95 in milliseconds."""
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 1), "p95_ms": round(p95 * 1000, 1)}


def time_pages(runs: int) -> dict:
    """p50/p95 of each page, rendered in-process by Django's test client."""
    from django.contrib.auth.models import User
    from django.core.cache import cache
    from django.test import Client

    from minestrone.monitor import views

    # no broker here: the metrics' queue depths are left out (the database part is timed)
    views._broker_depths = list
    User.objects.filter(username="bench").delete()
    # force_login below: no password, so no key stretching to pay for
    user = User.objects.create(username="bench", is_staff=True, is_superuser=True)
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    htmx = {"HX-Request": "true"}
    # "computed": the charts' cache emptied before each request; "poll": as the pages poll
    pages = {
        "editor (baseline)": ("/", {}),
        "dashboard hour (computed)": ("/monitor/?window=hour", {}),
        "dashboard day (computed)": ("/monitor/?window=day", {}),
        "dashboard fragment (poll)": ("/monitor/?window=hour", htmx),
        "tasks rows (poll)": ("/admin/monitor/taskstate/", htmx),
        "workers rows (poll)": ("/admin/monitor/workerstate/", htmx),
        "metrics": ("/monitor/metrics", {}),
    }
    report = {"dashboard day (first view: its settled hours summed up)": first_day_view(client)}
    for name, (url, headers) in pages.items():
        if client.get(url, headers=headers).status_code != 200:
            raise SystemExit(f"{url} did not answer 200")
        times = []
        for _ in range(runs):
            if "computed" in name:
                cache.clear()
            began = time.perf_counter()
            client.get(url, headers=headers)
            times.append(time.perf_counter() - began)
        report[name] = percentiles(times)
    return report, client, client.cookies["sessionid"].value


def first_day_view(client) -> dict:
    """The day's dashboard with no hourly summary yet (once; later views read them)."""
    from django.core.cache import cache

    from minestrone.monitor.models import SummarisedHour

    SummarisedHour.objects.all().delete()
    cache.clear()
    began = time.perf_counter()
    if client.get("/monitor/?window=day").status_code != 200:
        raise SystemExit("/monitor/?window=day did not answer 200")
    return {"ms": round((time.perf_counter() - began) * 1000, 1)}


def serve(env_file: Path, port: int) -> subprocess.Popen:
    """gunicorn with 2 workers on the benchmark's database; wait until it answers."""
    environ = {
        **os.environ,
        "MINESTRONE_ENV_FILE": str(env_file),
        "DJANGO_SETTINGS_MODULE": "minestrone.settings",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "minestrone.wsgi"],
        cwd=ROOT,
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()
            return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("gunicorn did not answer within 60 s")


def editor_rate(port: int, seconds: float) -> float:
    """Requests per second the editor page gets with CLIENTS clients in a loop."""
    stop = time.monotonic() + seconds
    counts = [0] * CLIENTS

    def client(n: int) -> None:
        while time.monotonic() < stop:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30).read()
            counts[n] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / seconds


def with_pollers(port: int, session: str, pollers: int, seconds: float) -> tuple[float, list]:
    """The editor's rate while `pollers` dashboards poll every POLL_SECONDS (staggered)."""
    done = threading.Event()
    times: list[float] = []

    def poll(n: int) -> None:
        done.wait(POLL_SECONDS * n / pollers)
        while not done.is_set():
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/monitor/?window=hour",
                headers={"HX-Request": "true", "Cookie": f"sessionid={session}"},
            )
            began = time.perf_counter()
            urllib.request.urlopen(request, timeout=60).read()
            times.append(time.perf_counter() - began)
            done.wait(POLL_SECONDS)

    threads = [threading.Thread(target=poll, args=(n,)) for n in range(pollers)]
    for thread in threads:
        thread.start()
    rate = editor_rate(port, seconds)
    done.set()
    for thread in threads:
        thread.join()
    return rate, times


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print its JSON."""
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from backing_services import choice
    from backing_services.ports import free_ports
    from bench import camera

    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-monitor-")))
        postgres = stack.enter_context(choice.postgres_server())
        postgres.create_database(camera.DATABASE)
        env_file = camera.environment(folder / "environment.json", postgres, None)
        camera.setup_django(env_file)
        from bench import admin_page

        report = {
            "rows": args.rows,
            "load_seconds": round(admin_page.load(postgres, camera.DATABASE, args.rows), 1),
        }
        report["pages"], client, session = time_pages(args.runs)
        from bench.monitor_api import time_api

        report["api and searches"] = time_api(client, args.rows, args.runs, percentiles)
        from django.db import connections

        connections.close_all()
        [port] = free_ports(1)
        server = serve(env_file, port)
        stack.callback(server.wait, 30)
        stack.callback(server.terminate)
        # alternate the phases: the machine is shared, its speed drifts
        alone, polled, poll_times = [], [], []
        for _ in range(2):
            alone.append(editor_rate(port, args.seconds))
            rate, times = with_pollers(port, session, args.pollers, args.seconds)
            polled.append(rate)
            poll_times.extend(times)
        report["polling"] = {
            "pollers": args.pollers,
            "poll_every_s": POLL_SECONDS,
            "editor_req_per_s_alone (baseline)": [round(rate, 1) for rate in alone],
            "editor_req_per_s_while_polled": [round(rate, 1) for rate in polled],
            "ratio": round(sum(polled) / sum(alone), 2) if sum(alone) else None,
            "poll_request": percentiles(poll_times) if poll_times else None,
        }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
