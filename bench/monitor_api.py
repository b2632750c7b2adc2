"""Time the monitor's API and the Tasks admin's searches on the big table (bench.monitor)."""

from __future__ import annotations

import hashlib
import random
import time
import uuid

PAGE = "/admin/monitor/taskstate/"
# bench.admin_page's rows: ids are md5(n) as UUIDs, names app.tasks.job_<n % 20>, keys
# tasks.kitchen.<n % 10>
SEARCHES = {
    "search task id": "c4ca4238-a0b9-2382-0dcc-509a6f75849b",
    "search routing key prefix": "tasks.kitchen.*",
    "search a word": "job_7",
    "search a word that matches nothing": "no-such-text",
}


def task_id(n: int) -> str:
    """The id bench.admin_page gives the n-th row."""
    return str(uuid.UUID(hashlib.md5(str(n).encode()).hexdigest()))  # noqa: S324 (not security)


def _timed(client, url: str, runs: int, percentiles, headers=None, each=None) -> dict:
    response = client.get(url, headers=headers or {})
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}: {response.content[:200]!r}")
    times = []
    for _ in range(runs):
        target = each() if each else url
        began = time.perf_counter()
        response = client.get(target, headers=headers or {})
        times.append(time.perf_counter() - began)
        if response.status_code != 200:
            raise SystemExit(f"{target} answered {response.status_code}")
    return percentiles(times)


def time_api(client, rows: int, runs: int, percentiles) -> dict:
    """p50/p95 of the API's list and one task's info (a bearer token), and of each search of
    the Tasks admin (the logged-in client)."""
    from django.contrib.auth.models import User
    from django.test import Client, override_settings

    from minestrone.monitor.api.tokens import ApiToken

    _, token = ApiToken.objects.issue(User.objects.get(username="bench"), "bench")
    api = Client(HTTP_HOST="localhost")
    bearer = {"Authorization": f"Bearer {token}"}
    picker = random.Random(7)
    report = {}
    with override_settings(MONITOR_API_REQUESTS_PER_MINUTE=10**9):
        report["api tasks?limit=100"] = _timed(
            api, "/api/tasks?limit=100", runs, percentiles, bearer
        )
        report["api tasks?state=FAILURE&limit=100"] = _timed(
            api, "/api/tasks?state=FAILURE&limit=100", runs, percentiles, bearer
        )
        report["api task/info/<id>"] = _timed(
            api,
            f"/api/task/info/{task_id(1)}",
            runs,
            percentiles,
            bearer,
            each=lambda: f"/api/task/info/{task_id(picker.randint(1, rows))}",
        )
    # the same page unsearched: what rendering a page of rows costs without any search
    report["tasks page, no search (baseline)"] = _timed(client, PAGE, runs, percentiles)
    for name, term in SEARCHES.items():
        report[name] = _timed(client, f"{PAGE}?q={term}", runs, percentiles)
    return report
