"""The container and Kubernetes benchmarks finish and print the keys the README lists; their
image builds reuse the layers of the images this run built for the other container tests, and
the Kubernetes one takes its baseline from the container one's cold push (one push for both)."""

from __future__ import annotations

import pytest

from tests import bench_keys

pytestmark = pytest.mark.integration

# Each bench removes the images it built when it ends, and with them every layer no other image
# holds: without the run's images (``built``) alive meanwhile, each bench's build starts cold
# (apt, the virtualenv: about four minutes on 2 cores) however many times it ran before.


@pytest.fixture(scope="module")
def container_bench(built):
    """bench.containers' report, its cold build reusing the run's layers."""
    return bench_keys.run(["bench.containers", "--reuse-layers"], ["bench.containers"], timeout=900)


def test_the_container_bench_with_cached_layers(container_bench):
    assert container_bench["compose_up_ready"] > 0 and container_bench["push_cold"] > 0


def test_the_kube_play_bench(built, container_bench):
    push_cold = container_bench["push_cold"]
    report = bench_keys.run(
        ["bench.kube_play", "--push-cold", str(push_cold)], ["bench.kube_play"], timeout=900
    )
    assert report["kube_play_up"] > 0 and report["push_cold"] == push_cold
    assert report["ratio_export_to_answering_vs_push_cold"] == round(
        report["export_to_answering"] / push_cold, 2
    )
