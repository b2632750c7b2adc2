"""The day's dashboard from hourly summaries: the same counts as reading every task, the
percentiles within the histograms' resolution, each hour summed up once."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minestrone.monitor import charts, rollup
from minestrone.monitor.models import HourCount, HourRuntimes, SummarisedHour, TaskState
from minestrone.monitor.states import progress
from tests.unit.monitor.tasks import record

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 29, 12, 30, 30, tzinfo=UTC)
DAY = charts.WINDOWS["day"]
RESOLUTION = rollup.GROWTH**0.5 - 1  # a bucket's middle is this close to any of its values


@pytest.fixture(autouse=True)
def empty_cache():
    from django.core.cache import cache

    cache.clear()


def task(task_id, state, ago, name="app.add", runtime=None, worker="w1"):
    record(task_id, state, NOW - ago, name, runtime, worker)


def a_day_of_tasks():
    for n in range(230):  # the oldest 22.9 hours ago: in the window
        state = ("SUCCESS", "SUCCESS", "FAILURE", "STARTED", "REVOKED")[n % 5]
        runtime = 0.01 * (1 + n % 37) if state == "SUCCESS" else None
        task(f"t{n}", state, timedelta(minutes=6 * n + 1), f"app.task{n % 3}", runtime, f"w{n % 2}")


@given(st.floats(min_value=rollup.LOWEST * 1.0001, max_value=1e6))
def test_a_bucket_stands_for_each_of_its_runtimes_within_the_resolution(runtime):
    middle = rollup.bucket_value(rollup.bucket(runtime))
    assert middle == pytest.approx(runtime, rel=RESOLUTION * 1.01)


@given(
    st.lists(st.floats(min_value=0.002, max_value=1e4), min_size=1, max_size=200),
    st.sampled_from(charts.PERCENTILES),
)
def test_histogram_percentiles_are_within_the_resolution(runtimes, fraction):
    exact = charts._percentile(sorted(runtimes), fraction)
    approximate = rollup.percentile(rollup.histogram(runtimes), fraction)
    # between two ranks the interpolation may mix two buckets: both within the resolution
    assert approximate == pytest.approx(exact, rel=RESOLUTION * 1.01)


def test_the_database_puts_runtimes_in_the_same_buckets():
    runtimes = [0.0, 0.0005, 0.001, 0.0011, 0.01, 0.5, 1.0, 3.7, 42.0, 86400.0]
    for n, runtime in enumerate(runtimes):
        task(f"r{n}", "SUCCESS", timedelta(minutes=n), runtime=runtime)
    task("no-runtime", "SUCCESS", timedelta(minutes=1))
    found = rollup.histograms_by_name(TaskState.objects.all())
    assert found == {"app.add": rollup.histogram(runtimes)}


def test_only_hours_that_ended_a_while_ago_are_summed_up():
    periods = DAY.periods(NOW)  # the last starts at 12:00; 11:00 ended 30 minutes ago
    settled = rollup.settled_hours(periods, NOW)
    assert settled[-1] == datetime(2026, 11, 29, 11, tzinfo=UTC)
    assert rollup.settled_hours(periods, NOW - timedelta(minutes=20))[-1].hour == 10


def test_the_days_counts_from_summaries_are_those_of_every_task():
    a_day_of_tasks()
    exact = {column: charts.per_period(DAY, NOW, column) for column in ("state", "name")}
    counts = charts.period_counts(DAY, NOW)
    assert SummarisedHour.objects.count() == 23
    assert counts["state"] == exact["state"]
    assert counts["name"] == exact["name"]
    finished = TaskState.objects.filter(state__in=("SUCCESS", "FAILURE", "REVOKED"))
    assert sum(map(sum, counts["worker"].values())) == finished.count()


def test_an_hour_is_summed_up_once_and_its_unfinished_tasks_are_read_live():
    task("old-done", "SUCCESS", timedelta(hours=5), runtime=1.0)
    task("old-running", "STARTED", timedelta(hours=5))
    charts.period_counts(DAY, NOW)
    rows = HourCount.objects.count()
    charts.period_counts(DAY, NOW)
    assert HourCount.objects.count() == rows == 1  # the finished task alone, summed up once
    assert HourRuntimes.objects.get().runs == {str(rollup.bucket(1.0)): 1}
    TaskState.objects.filter(task_id="old-running").update(state="RECEIVED")
    counts = charts.period_counts(DAY, NOW)
    assert counts["state"]["RECEIVED"][-6] == 1  # an unfinished task's state is always current
    assert counts["state"]["SUCCESS"][-6] == 1


def test_the_days_percentiles_come_from_the_histograms():
    a_day_of_tasks()
    task("recent", "SUCCESS", timedelta(minutes=1), "app.task0", runtime=0.2)
    stats = charts.runtime_percentiles(DAY, NOW)
    assert {stat.name for stat in stats} == {"app.task0", "app.task1", "app.task2"}
    for stat in stats:
        runtimes = sorted(
            TaskState.objects.filter(name=stat.name, state="SUCCESS").values_list(
                "runtime", flat=True
            )
        )
        assert stat.approximate
        assert stat.count == len(runtimes)
        for value, fraction in zip((stat.p50, stat.p95, stat.p99), charts.PERCENTILES, strict=True):
            exact = charts._percentile(runtimes, fraction)
            assert value == pytest.approx(exact, rel=RESOLUTION * 1.01)
    hour = charts.runtime_percentiles(charts.WINDOWS["hour"], NOW)
    assert hour and not any(stat.approximate for stat in hour)  # exact, from every task


def test_summaries_older_than_two_days_are_dropped():
    old = datetime(2026, 11, 26, 9, tzinfo=UTC)
    SummarisedHour.objects.create(hour=old)
    rollup.summarise(datetime(2026, 11, 29, 9, tzinfo=UTC))
    assert not SummarisedHour.objects.filter(hour=old).exists()


def test_the_days_page_says_its_percentiles_are_approximate(admin_client):
    from django.utils import timezone

    now = timezone.now()
    for n, hours in enumerate((3, 0)):  # one in a summarised hour, one read live
        when = now - timedelta(hours=hours)
        TaskState.objects.create(
            task_id=f"ok{n}", state="SUCCESS", progress=progress("SUCCESS", when.timestamp()),
            tstamp=when, name="app.ok", runtime=1.0,
        )
    day = admin_client.get("/monitor/?window=day").content.decode()
    assert re.search(r"≈(0\.9[89]\d|1\.0[0-2]\d) s", day)  # 1 s, within the resolution
    assert "within 2.5 % of the exact value" in day
    assert SummarisedHour.objects.exists()
    hour = admin_client.get("/monitor/?window=hour").content.decode()
    assert "app.ok" in hour and "≈" not in hour


def test_the_cameras_cleanup_sums_up_the_days_settled_hours():
    from minestrone.monitor.store import DatabaseStore

    task("done", "SUCCESS", timedelta(hours=3), runtime=0.5)
    DatabaseStore().cleanup(NOW)
    assert SummarisedHour.objects.count() == 23  # every settled hour of the day's window
    assert HourCount.objects.get().tasks == 1


def test_a_finished_task_written_late_into_a_summarised_hour_is_counted():
    from minestrone.monitor.snapshot import Snapshot
    from minestrone.monitor.store import DatabaseStore

    task("early", "SUCCESS", timedelta(hours=3), runtime=0.5)
    assert charts.period_counts(DAY, NOW)["state"]["SUCCESS"][-4] == 1
    late = NOW - timedelta(hours=3, minutes=1)  # the camera's backlog, after an outage
    row = {"task_id": "late", "state": "SUCCESS", "progress": progress("SUCCESS", late.timestamp()),
           "tstamp": late, "name": "app.add", "runtime": 0.7, "worker": "w1"}
    DatabaseStore().record(Snapshot(tasks={"late": row}))
    assert charts.period_counts(DAY, NOW)["state"]["SUCCESS"][-4] == 2
    [stat] = charts.runtime_percentiles(DAY, NOW)
    assert stat.count == 2


def test_a_runtime_that_is_no_runtime_is_left_out():
    task("forever", "SUCCESS", timedelta(minutes=1), runtime=float("inf"))
    task("ok", "SUCCESS", timedelta(minutes=2), runtime=2.0)
    found = rollup.histograms_by_name(TaskState.objects.all())
    assert found == {"app.add": rollup.histogram([2.0])}
