"""The dashboard's and the metrics' queries on PostgreSQL: the same answers as in Python, and
plans that read the time index (EXPLAIN), never the whole table."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from minestrone.monitor import charts, metrics
from minestrone.monitor.models import SummarisedHour, TaskEvent, TaskState
from minestrone.monitor.states import progress
from tests.integration.monitor import sql_checks

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


@pytest.mark.parametrize("window_name", ["hour", "day"])
def test_percentiles_on_postgresql_match_the_python_ones(tasks, window_name):
    sql_checks.check_percentiles(tasks, window_name)


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


def test_the_days_queries_read_the_indexes(tasks):
    window = charts.WINDOWS["day"]
    settled = charts._settled(window, tasks)
    recent, unfinished = charts._not_summarised(window, tasks, settled)
    assert "monitor_task_tstamp" in orm_plan(recent.values("state"))
    assert "monitor_task_state_tstamp" in orm_plan(unfinished.values("state"))


def test_the_days_counts_from_summaries_match_every_tasks(tasks):
    window = charts.WINDOWS["day"]
    counts = charts.period_counts(window, tasks)
    assert SummarisedHour.objects.count() == len(charts._settled(window, tasks)) > 20
    assert counts["state"] == charts.per_period(window, tasks, "state")


@pytest.mark.django_db(transaction=True)  # the threads' connections see the tasks
def test_an_hour_summed_up_by_four_at_once_is_counted_once(tasks):
    sql_checks.check_summed_up_once_by_four(charts._settled(charts.WINDOWS["day"], tasks)[0])


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


def test_postgresql_puts_runtimes_in_the_buckets_python_does(tasks):
    sql_checks.check_runtime_buckets()


def test_queue_waits_on_postgresql_match_python_and_read_the_time_index(tasks):
    from django.db.models import F

    from minestrone.monitor import queue_wait

    TaskState.objects.update(sent=F("tstamp") - timedelta(seconds=30))
    TaskState.objects.exclude(state="STARTED").update(started=F("sent") + timedelta(seconds=2))
    TaskState.objects.filter(state="STARTED").update(started=F("sent") + timedelta(seconds=5))
    start = charts.WINDOWS["hour"].start(tasks)
    stats = queue_wait.percentiles(start, tasks)
    assert len(stats) == 5
    for stat in stats:
        rows = TaskState.objects.filter(name=stat.name, tstamp__gte=start, tstamp__lte=tasks)
        waits = sorted((s - t).total_seconds() for s, t in rows.values_list("started", "sent"))
        assert stat.count == len(waits)
        assert stat.p95 == pytest.approx(charts._percentile(waits, 0.95))
    histogram = queue_wait.histogram_by_name(start, metrics.QUEUE_WAIT_BUCKETS)
    assert sum(values[-2] for values in histogram.values()) == sum(s.count for s in stats)
    text = plan(queue_wait.PERCENTILE_SQL, [0.5, 0.95, 0.99, start, tasks, 20])
    assert "Index" in text and "Seq Scan" not in text, text
    assert 'minestrone_task_queue_wait_seconds_bucket{le="5.0",name="app.task0"}' in (
        metrics.render(tasks).decode()
    )
