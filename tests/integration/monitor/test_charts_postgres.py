"""The dashboard's and the metrics' queries on PostgreSQL: the same answers as in Python, and
plans that read the time index (EXPLAIN), never the whole table."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from minestrone.monitor import charts, metrics
from minestrone.monitor.models import TaskEvent, TaskState
from minestrone.monitor.states import progress

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.fixture
def tasks():
    now = timezone.now()
    rows = []
    for n in range(3000):
        state = ("SUCCESS", "FAILURE", "STARTED")[n % 3]
        when = now - timedelta(minutes=n % 1440)
        rows.append(
            {
                "task_id": f"t{n}",
                "state": state,
                "progress": progress(state, when.timestamp()),
                "tstamp": when,
                "name": f"app.task{n % 5}",
                "runtime": (n % 100) / 10 if state == "SUCCESS" else None,
                "worker": f"w{n % 3}",
            }
        )
    TaskState.objects.record(rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE monitor_taskstate")
    return now


def plan(sql: str, params) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def orm_plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    return plan(sql, params)


def test_percentiles_in_sql_match_the_python_ones(tasks):
    window = charts.WINDOWS["day"]
    in_sql = charts.runtime_percentiles(window, tasks)
    assert len(in_sql) == 5
    for stat in in_sql:
        runtimes = sorted(
            TaskState.objects.filter(
                name=stat.name,
                state="SUCCESS",
                tstamp__gte=window.start(tasks),
                tstamp__lte=tasks,
            ).values_list("runtime", flat=True)
        )
        assert stat.count == len(runtimes)
        assert stat.p95 == pytest.approx(charts._percentile(runtimes, 0.95))


def test_chart_queries_read_the_indexes(tasks):
    window = charts.WINDOWS["hour"]
    start = window.start(tasks)
    queries = {
        "per period": charts.in_window(window, tasks).values("state"),
        "failures": charts.in_window(window, tasks)
        .filter(state="FAILURE")
        .order_by("-tstamp")[:10],
        "metrics": TaskState.objects.filter(tstamp__gte=start, hidden=False).values(
            "name", "state"
        ),
        "timeline": TaskEvent.objects.filter(task_id="t1").order_by("timestamp", "id")[:200],
    }
    for what, queryset in queries.items():
        text = orm_plan(queryset)
        assert "Index" in text and "Seq Scan" not in text, f"{what}:\n{text}"
    sql_plan = plan(charts.PERCENTILE_SQL, [0.5, 0.95, 0.99, "SUCCESS", start, tasks, 20])
    assert "Index" in sql_plan and "Seq Scan" not in sql_plan, sql_plan


def test_per_period_counts_on_postgresql(tasks):
    series = charts.per_period(charts.WINDOWS["day"], tasks, "state")
    assert (
        sum(map(sum, series.values()))
        == TaskState.objects.filter(tstamp__gte=charts.WINDOWS["day"].start(tasks)).count()
    )


def test_metrics_on_postgresql(tasks):
    text = metrics.render(tasks).decode()
    assert 'minestrone_tasks{name="app.task0",state="SUCCESS"}' in text
    assert 'minestrone_task_runtime_seconds_bucket{le="+Inf",name="app.task0"}' in text
