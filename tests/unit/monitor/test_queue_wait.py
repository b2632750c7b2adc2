"""Queue wait (sent → started) per task name: the metric's histogram and the dashboard's
percentiles."""

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from minestrone.monitor import metrics, queue_wait
from minestrone.monitor.models import TaskState
from tests.unit.monitor.tasks import record

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 29, 12, 30, 30, tzinfo=UTC)
HISTOGRAM = "minestrone_task_queue_wait_seconds"


def waited(task_id, seconds, name="app.add", ago_minutes=1):
    when = NOW - timedelta(minutes=ago_minutes)
    record(task_id, "SUCCESS", when, name)
    sent = when - timedelta(seconds=10)
    TaskState.objects.filter(pk=task_id).update(
        sent=sent, started=sent + timedelta(seconds=seconds)
    )


def samples():
    text = metrics.render(NOW).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name.startswith(HISTOGRAM)
    }


def test_the_histogram_counts_each_wait_in_its_buckets():
    waited("a", 0.2)
    waited("b", 3.0)
    waited("c", 45.0, name="app.mul")
    waited("old", 1.0, ago_minutes=90)  # out of the hour
    record("never-started", "PENDING", NOW, "app.add")
    waited("skewed", -2.0)  # the worker's clock behind the client's: left out
    found = samples()
    add = (("name", "app.add"),)
    assert found[(f"{HISTOGRAM}_bucket", (("le", "0.5"), *add))] == 1
    assert found[(f"{HISTOGRAM}_bucket", (("le", "5.0"), *add))] == 2
    assert found[(f"{HISTOGRAM}_bucket", (("le", "+Inf"), *add))] == 2
    assert found[(f"{HISTOGRAM}_sum", add)] == pytest.approx(3.2)
    assert found[(f"{HISTOGRAM}_bucket", (("le", "30.0"), ("name", "app.mul")))] == 0
    assert found[(f"{HISTOGRAM}_count", (("name", "app.mul"),))] == 1


def test_percentiles_for_the_dashboard():
    for n in range(1, 11):
        waited(f"t{n}", float(n))
    waited("m", 0.5, name="app.mul")
    stats = queue_wait.percentiles(NOW - timedelta(hours=1), NOW)
    assert [(s.name, s.count) for s in stats] == [("app.add", 10), ("app.mul", 1)]
    assert stats[0].p50 == pytest.approx(5.5) and stats[0].p99 == pytest.approx(9.91)


def test_the_dashboard_shows_the_waits(admin_client):
    waited("a", 0.25)
    TaskState.objects.update(tstamp=datetime.now(UTC))
    page = admin_client.get("/monitor/").content.decode()
    assert 'id="queue-waits"' in page and "0.250 s" in page


def test_the_newest_event_and_heartbeat_are_exported():
    from minestrone.monitor.models import WorkerState

    text = metrics.render(NOW).decode()
    assert "minestrone_last_recorded_timestamp_seconds{" not in text  # nothing recorded yet
    record("a", "SUCCESS", NOW - timedelta(seconds=30))
    WorkerState.objects.create(hostname="w1", last_heartbeat=NOW - timedelta(seconds=5))
    found = {
        s.labels["kind"]: s.value
        for family in text_string_to_metric_families(metrics.render(NOW).decode())
        for s in family.samples
        if s.name == "minestrone_last_recorded_timestamp_seconds"
    }
    assert found == {
        "task": (NOW - timedelta(seconds=30)).timestamp(),
        "heartbeat": (NOW - timedelta(seconds=5)).timestamp(),
    }
