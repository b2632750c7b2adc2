"""The container and Kubernetes benchmarks finish and print the keys the README lists; their
image builds reuse the layers of the images this run built for the other container tests."""

from __future__ import annotations

import pytest

from tests import bench_keys

pytestmark = pytest.mark.integration

# Each bench removes the images it built when it ends, and with them every layer no other image
# holds: without the run's images (``built``) alive meanwhile, each bench's build starts cold
# (apt, the virtualenv: about four minutes on 2 cores) however many times it ran before.


def test_the_container_bench_with_cached_layers(built):
    report = bench_keys.run(
        ["bench.containers", "--reuse-layers"], ["bench.containers"], timeout=900
    )
    assert report["compose_up_ready"] > 0 and report["push_cold"] > 0


def test_the_kube_play_bench(built):
    report = bench_keys.run(["bench.kube_play"], ["bench.kube_play"], timeout=900)
    assert report["kube_play_up"] > 0 and report["push_cold"] > 0
