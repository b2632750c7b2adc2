"""The dashboard's queries and charts, and the Prometheus metrics, on SQLite."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from minestrone.errors import BrokerUnreachable
from minestrone.monitor import charts, metrics, svg
from minestrone.monitor.models import TaskState, WorkerState
from minestrone.monitor.queue_depth import QueueDepth
from minestrone.monitor.states import progress
from tests.unit.monitor.tasks import record

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    from django.core.cache import cache

    cache.clear()


NOW = datetime(2026, 11, 29, 12, 30, 30, tzinfo=UTC)
HOUR = charts.WINDOWS["hour"]


def task(task_id, state, ago_minutes, name="app.add", runtime=None, worker="w1"):
    record(task_id, state, NOW - timedelta(minutes=ago_minutes), name, runtime, worker)


def test_windows_have_one_period_per_minute_or_hour():
    periods = HOUR.periods(NOW)
    assert len(periods) == 60
    assert periods[-1] == datetime(2026, 11, 29, 12, 30, tzinfo=UTC)
    assert periods[0] == datetime(2026, 11, 29, 11, 31, tzinfo=UTC)
    assert len(charts.WINDOWS["day"].periods(NOW)) == 24


def test_tasks_per_minute_by_state_and_name():
    task("a", "SUCCESS", 0, runtime=1.0)
    task("b", "SUCCESS", 0, runtime=2.0)
    task("c", "FAILURE", 5)
    task("d", "SUCCESS", 5, name="app.mul", runtime=3.0)
    task("old", "SUCCESS", 120)
    by_state = charts.per_period(HOUR, NOW, "state")
    assert by_state["SUCCESS"][-1] == 2 and by_state["SUCCESS"][-6] == 1
    assert by_state["FAILURE"][-6] == 1
    assert sum(map(sum, by_state.values())) == 4
    by_name = charts.per_period(HOUR, NOW, "name")
    assert sorted(by_name) == ["app.add", "app.mul"]


def test_many_names_are_folded_into_other():
    for n in range(12):
        task(f"t{n}", "SUCCESS", 1, name=f"app.t{n:02d}")
    series = charts.per_period(HOUR, NOW, "name")
    assert len(series) == charts.MAX_SERIES and sum(series[charts.OTHER]) == 5


def test_runtime_percentiles_interpolate_like_postgresql():
    for n in range(1, 101):
        task(f"r{n}", "SUCCESS", 1, runtime=float(n))
    [stat] = charts.runtime_percentiles(HOUR, NOW)
    assert (stat.name, stat.count) == ("app.add", 100)
    assert stat.p50 == pytest.approx(50.5)
    assert stat.p95 == pytest.approx(95.05)
    assert stat.p99 == pytest.approx(99.01)


def test_failures_and_worker_throughput():
    task("f1", "FAILURE", 3)
    task("f2", "FAILURE", 1)
    task("s1", "SUCCESS", 1, worker="w2")
    task("run", "STARTED", 1, worker="w2")
    assert [t.task_id for t in charts.recent_failures(HOUR, NOW)] == ["f2", "f1"]
    throughput = charts.worker_throughput(HOUR, NOW)
    assert sum(throughput["w1"]) == 2 and sum(throughput["w2"]) == 1


def test_stacked_bars_draw_one_rect_per_nonzero_value():
    periods = HOUR.periods(NOW)[-3:]
    chart = svg.stacked_bars({"SUCCESS": [1, 0, 2], "FAILURE": [0, 0, 1]}, periods)
    bars, legend = chart.split("</svg>", 1)
    assert bars.count("<rect") == 3
    assert legend.count('class="swatch"') == 2 and "style=" not in chart
    assert 'data-bars="3"' in chart and "<title>FAILURE: 1 at 12:30</title>" in chart


def test_metrics_parse_back_with_prometheus_clients_parser():
    task("a", "SUCCESS", 1, runtime=0.2)
    task("b", "SUCCESS", 2, runtime=3.0)
    task("c", "FAILURE", 2)
    WorkerState.objects.create(hostname="w1", heartbeat_expires=NOW + timedelta(seconds=5))
    WorkerState.objects.create(hostname="w0", heartbeat_expires=NOW - timedelta(seconds=5))
    depths = [QueueDepth("default", 4, 2), QueueDepth("jobs", 1, 1, unacked=3)]
    text = metrics.render(NOW, depths=lambda: depths).decode()
    families = {family.name: family for family in text_string_to_metric_families(text)}
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in families.values()
        for s in family.samples
    }
    assert samples[("minestrone_tasks", (("name", "app.add"), ("state", "SUCCESS")))] == 2
    assert samples[("minestrone_tasks", (("name", "app.add"), ("state", "FAILURE")))] == 1
    histogram = "minestrone_task_runtime_seconds"
    assert samples[(f"{histogram}_bucket", (("le", "0.5"), ("name", "app.add")))] == 1
    assert samples[(f"{histogram}_bucket", (("le", "+Inf"), ("name", "app.add")))] == 2
    assert samples[(f"{histogram}_sum", (("name", "app.add"),))] == pytest.approx(3.2)
    assert samples[("minestrone_worker_up", (("worker", "w1"),))] == 1
    assert samples[("minestrone_worker_up", (("worker", "w0"),))] == 0
    assert samples[("minestrone_queue_messages_ready", (("queue", "default"),))] == 4
    assert samples[("minestrone_queue_consumers", (("queue", "default"),))] == 2
    # unacknowledged counts are exported only where known (from the management API)
    unacked = "minestrone_queue_messages_unacknowledged"
    assert samples[(unacked, (("queue", "jobs"),))] == 3
    assert (unacked, (("queue", "default"),)) not in samples
    assert samples[("minestrone_broker_up", ())] == 1


def test_metrics_say_when_the_broker_is_down():
    def down():
        raise BrokerUnreachable("refused")

    text = metrics.render(NOW, depths=down).decode()
    assert "minestrone_broker_up 0.0" in text
    assert "minestrone_queue_messages_ready{" not in text


def test_the_metrics_endpoint_wants_staff_or_the_token(client, admin_client, settings):
    settings.MONITOR_METRICS_TOKEN = "s3cret-token"
    denied = client.get("/monitor/metrics")
    assert denied.status_code == 403 and b"MONITOR_METRICS_TOKEN" in denied.content
    assert (
        client.get("/monitor/metrics", headers={"Authorization": "Bearer nope"}).status_code == 403
    )
    for response in (
        client.get("/monitor/metrics", headers={"Authorization": "Bearer s3cret-token"}),
        admin_client.get("/monitor/metrics"),
    ):
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain; version=")
        assert b"# TYPE minestrone_tasks gauge" in response.content


def test_the_dashboard_is_staff_only_and_draws_its_charts(client, admin_client):
    from django.utils import timezone

    now = timezone.now()
    TaskState.objects.create(
        task_id="x", state="FAILURE", progress=progress("FAILURE", 0), tstamp=now, name="app.x"
    )
    assert client.get("/monitor/").status_code == 302
    page = admin_client.get("/monitor/?window=day").content.decode()
    assert page.count('<figure class="chart">') == 4
    assert 'id="failures"' in page and "app.x" in page
    fragment = admin_client.get("/monitor/", headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment and 'id="dashboard"' in fragment


def test_staff_without_the_view_permission_get_neither_dashboard_nor_metrics(client):
    from django.contrib.auth.models import Permission, User

    user = User.objects.create_user("intern", password="pw", is_staff=True)
    client.force_login(user)
    assert client.get("/monitor/").status_code == 403
    assert client.get("/monitor/metrics").status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_taskstate"))
    client.force_login(User.objects.get(pk=user.pk))  # permissions are cached per object
    assert client.get("/monitor/").status_code == 200
    assert client.get("/monitor/metrics").status_code == 200


def test_queue_depth_keeps_the_most_ready_per_period():
    from minestrone.monitor.models import QueueSample

    for seconds, ready in ((0, 3), (15, 9), (30, 4), (90, 1)):
        at = NOW - timedelta(seconds=seconds)
        QueueSample.objects.create(queue="default", at=at, ready=ready, consumers=1)
    QueueSample.objects.create(queue="old", at=NOW - timedelta(hours=2), ready=5, consumers=0)
    series = charts.queue_depth(HOUR, NOW)
    assert list(series) == ["default"]
    assert series["default"][-1] == 9  # 12:30:30, :15 and :00 are in the last minute
    assert series["default"][-2] == 1


def test_unacked_counts_are_charted_only_where_the_samples_know_them(admin_client):
    from django.core.cache import cache

    from minestrone.monitor.models import QueueSample

    QueueSample.objects.create(queue="default", at=NOW, ready=3, consumers=1)
    assert charts.queue_depth(HOUR, NOW, "unacked") == {}
    cache.clear()
    page = admin_client.get("/monitor/").content.decode()
    assert "Unacknowledged (most, per queue)" not in page
    QueueSample.objects.create(
        queue="jobs", at=NOW - timedelta(seconds=5), ready=1, consumers=1, unacked=6
    )
    QueueSample.objects.create(queue="jobs", at=NOW, ready=1, consumers=1, unacked=2)
    series = charts.queue_depth(HOUR, NOW, "unacked")
    assert list(series) == ["jobs"] and series["jobs"][-1] == 6
    with pytest.raises(ValueError, match="no such queue count"):
        charts.queue_depth(HOUR, NOW, "consumers; DROP")
    from django.core.cache import cache
    from django.utils import timezone

    QueueSample.objects.create(queue="jobs", at=timezone.now(), ready=1, consumers=1, unacked=2)
    cache.clear()
    page = admin_client.get("/monitor/").content.decode()
    assert "Unacknowledged (most, per queue)" in page
    assert page.count('<figure class="chart">') == 5


def test_polling_dashboards_share_one_computation_per_interval(admin_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    admin_client.get("/monitor/")
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            admin_client.get("/monitor/", headers={"HX-Request": "true"})
    assert not [q for q in queries.captured_queries if "monitor_taskstate" in q["sql"]]


def test_one_scan_gives_the_same_series_as_the_separate_queries():
    task("a", "SUCCESS", 0, runtime=1.0)
    task("b", "FAILURE", 5, worker="w2")
    task("c", "STARTED", 5, name="app.mul")
    task("d", "SUCCESS", 59, name=None, worker=None)
    counts = charts.period_counts(HOUR, NOW)
    assert counts["state"] == charts.per_period(HOUR, NOW, "state")
    assert counts["name"] == charts.per_period(HOUR, NOW, "name")
    assert counts["worker"] == charts.worker_throughput(HOUR, NOW)


def test_an_empty_chart_says_so_in_html_beside_the_drawing():
    periods = HOUR.periods(NOW)[-3:]
    for series, words in (({}, "nothing in this window"), ({"default": [0, 0, 0]}, "all zero")):
        drawing, rest = svg.stacked_bars(series, periods).split("</svg>", 1)
        assert words in rest and "<text" not in drawing  # never stretched with the bars


def test_every_svg_has_a_size_of_its_own_without_the_stylesheet():
    periods = HOUR.periods(NOW)[-3:]
    chart = svg.stacked_bars({"SUCCESS": [1, 0, 2], "FAILURE": [0, 0, 1]}, periods)
    tags = re.findall(r"<svg[^>]*>", chart)
    assert len(tags) == 3
    for tag in tags:
        assert re.search(r' width="[^"]+"', tag) and re.search(r' height="\d+"', tag), tag
    swatches = [tag for tag in tags if 'class="swatch"' in tag]
    assert all(' width="10" height="10"' in tag for tag in swatches)


def test_metrics_of_a_redis_queue_have_unacked_counts_and_no_consumer_count():
    depths = [QueueDepth("default", 4, None, unacked=2)]
    text = metrics.render(NOW, depths=lambda: depths).decode()
    assert 'minestrone_queue_messages_ready{queue="default"} 4.0' in text
    assert 'minestrone_queue_messages_unacknowledged{queue="default"} 2.0' in text
    assert 'minestrone_queue_consumers{queue="default"}' not in text
