"""Time the admin's Tasks page on a big table (bench.camera --admin-rows)."""

from __future__ import annotations

import os
import statistics
import sys
import time
from contextlib import closing

import psycopg2
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from minestrone.deployment import dbwait
from minestrone.monitor.states import progress

PAGE = "/admin/monitor/taskstate/"
RUNS = 5
PER_PAGE = 100  # the Tasks list's rows per page
LOAD_BATCH = 50_000

# generate_series rows: a realistic mix of states, names, workers and routing keys over 3 days
LOAD = """
INSERT INTO monitor_taskstate (task_id, state, progress, tstamp, name, args, kwargs, routing_key,
    exchange, queue, worker, result, runtime, retries, sent, received, started, finished)
SELECT md5(n::text)::uuid::text,
       s.state, %(progress)s, t.at,
       'app.tasks.job_' || (n %% 20), '(' || n || ', ''soup'')', '{''n'': ' || n || '}',
       'tasks.kitchen.' || (n %% 10), 'default', 'default', 'w' || (n %% 8) || '@bench',
       CASE WHEN s.state = 'SUCCESS' THEN 'None' END, 0.01 * (n %% 100), 0,
       t.at - interval '30 ms', t.at - interval '20 ms', t.at - interval '10 ms', t.at
FROM generate_series(%(first)s, %(last)s) AS n,
LATERAL (SELECT now() - (n::float / %(rows)s) * interval '3 days' AS at) AS t,
LATERAL (SELECT CASE WHEN n %% 100 < 90 THEN 'SUCCESS' WHEN n %% 100 < 95 THEN 'FAILURE'
                     WHEN n %% 100 < 97 THEN 'STARTED' WHEN n %% 100 < 98 THEN 'RETRY'
                     WHEN n %% 100 < 99 THEN 'REVOKED' ELSE 'PENDING' END AS state) AS s
"""


def load(postgres, database: str, rows: int) -> float:
    """Fill the table with `rows` tasks; return the seconds it took."""
    began = time.perf_counter()
    # the load and its VACUUM ANALYZE (the search index's trigrams of every row) outlast the
    # app's deadline for a silent server: plain waits here, as migrate_safely does
    dbwait.uninstall()
    try:
        _load(postgres, database, rows)
    finally:
        dbwait.install()
    return time.perf_counter() - began


def _load(postgres, database: str, rows: int) -> None:
    with closing(psycopg2.connect(postgres.database_url(database))) as db:
        db.autocommit = True
        with db.cursor() as cursor:
            cursor.execute("TRUNCATE monitor_taskstate")
            # in batches: steady progress, no statement holding the table for minutes
            for first in range(1, rows + 1, LOAD_BATCH):
                last = min(rows, first + LOAD_BATCH - 1)
                values = {"first": first, "last": last, "rows": rows}
                cursor.execute(LOAD, {**values, "progress": progress("SUCCESS", 0)})
            cursor.execute("VACUUM ANALYZE monitor_taskstate")


def time_page(client: Client, url: str) -> dict:
    """Median time of `RUNS` renders of a page (after one warm-up), and its queries."""
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")
    times = []
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - began)
    slowest = max(queries.captured_queries, key=lambda q: float(q["time"]))
    if os.environ.get("BENCH_SHOW_QUERIES"):
        for query in sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:4]:
            print(url, query["time"], query["sql"][:300], file=sys.stderr)
    return {
        "median_ms": round(statistics.median(times) * 1000, 1),
        "max_ms": round(max(times) * 1000, 1),
        "queries": len(queries.captured_queries),
        "slowest_query_ms": round(float(slowest["time"]) * 1000, 1),
        "shown": response.content.decode().count('name="_selected_action"'),
    }


def run(rows: int, postgres, database: str) -> dict:
    """Load the rows, then time the list unfiltered, filtered, searched and paged."""
    load_seconds = load(postgres, database, rows)
    User.objects.filter(username="bench").delete()
    # force_login below: no password, so no key stretching to pay for
    user = User.objects.create(username="bench", is_staff=True, is_superuser=True)
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    today = timezone.localdate()
    urls = {
        "list": PAGE,
        "page_50": f"{PAGE}?p={min(50, max(1, (rows - 1) // PER_PAGE))}",  # or a small table's last
        "state_failure": f"{PAGE}?state__exact=FAILURE",
        "state_revoked": f"{PAGE}?state__exact=REVOKED",
        "name": f"{PAGE}?name=app.tasks.job_7",
        "worker": f"{PAGE}?worker=w3%40bench",
        "routing_key": f"{PAGE}?routing_key=tasks.kitchen.4",
        "today": f"{PAGE}?tstamp__year={today.year}&tstamp__month={today.month}"
        f"&tstamp__day={today.day}",
        "search_task_id": f"{PAGE}?q=c4ca4238-a0b9-2382-0dcc-509a6f75849b",
        "search_words": f"{PAGE}?q=job_7",
        "search_no_match": f"{PAGE}?q=no-such-text",
    }
    report = {"rows": rows, "load_seconds": round(load_seconds, 1)}
    report.update({name: time_page(client, url) for name, url in urls.items()})
    return report
