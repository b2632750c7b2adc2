"""The camera and monitor benchmarks finish at a tiny size on the session's servers and print
the keys the README lists (the full sizes stay out of the suite)."""

from __future__ import annotations

import pytest

from tests import bench_keys

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def servers(postgres_server, rabbitmq_management_server) -> dict[str, str]:
    """The environment that points a bench at the session's PostgreSQL and RabbitMQ."""
    return {
        "MINESTRONE_SERVICES": "url",
        "MINESTRONE_POSTGRES_URL": postgres_server.url,
        "MINESTRONE_RABBITMQ_URL": rabbitmq_management_server.url,
        "MINESTRONE_RABBITMQ_MANAGEMENT_URL": rabbitmq_management_server.management_url,
    }


def test_the_camera_bench_at_a_tiny_size(servers):
    report = bench_keys.run(
        ["bench.camera", "--tasks", "300", "--rounds", "1", "--live", "--live-tasks", "30",
         "--admin-rows", "300"],
        ["bench.camera", "bench.camera --live", "bench.camera --admin-rows"],
        servers,
    )  # fmt: skip
    assert report["rows_written_by_camera"] >= 300 and report["ratio"] > 0
    assert report["event_rows_written_by_camera"] == report["event_rows"] == 4 * 300
    assert report["live"]["every_task_recorded"], report["live"]


def test_the_monitor_bench_at_a_tiny_size(servers):
    report = bench_keys.run(
        ["bench.monitor", "--rows", "300", "--runs", "2", "--pollers", "2", "--seconds", "1"],
        ["bench.monitor"],
        servers,
    )
    assert report["rows"] == 300


def test_the_camera_bench_on_mariadb_at_a_tiny_size():
    # its own local MariaDB: the session server's account may not create the bench's database
    report = bench_keys.run(
        ["bench.camera", "--database", "mariadb", "--tasks", "300", "--rounds", "1"],
        ["bench.camera", "bench.camera --database mariadb"],
    )
    assert report["database"] == "mariadb" and report["ratio"] > 0
    assert report["event_rows_written_by_camera"] == report["event_rows"] == 4 * 300


def test_the_broker_bench_at_a_tiny_size(servers, redis_server):
    env = servers | {"MINESTRONE_REDIS_URL": redis_server.url}
    report = bench_keys.run(["bench.broker", "--messages", "50"], ["bench.broker"], env)
    assert report["messages"] == 50
    assert report["redis"]["publishes_per_s"] > 0 and report["rabbitmq"]["takes_per_s"] > 0


def test_the_queues_bench_at_a_tiny_size(servers):
    argv = ["bench.queues", "--messages", "50", "--rounds", "1"]
    report = bench_keys.run(argv, ["bench.queues"], servers)
    assert report["messages"] == 50
    assert report["quorum"]["consumes_per_s"] > 0 and report["classic"]["publishes_per_s"] > 0
