"""The container and Kubernetes benchmarks finish and print the keys the README lists; their
image builds reuse the layers this run already built (about a minute each on 2 cores)."""

from __future__ import annotations

import pytest

from tests import bench_keys

pytestmark = pytest.mark.integration


def test_the_container_bench_with_cached_layers():
    report = bench_keys.run(
        ["bench.containers", "--reuse-layers"], ["bench.containers"], timeout=900
    )
    assert report["compose_up_ready"] > 0 and report["push_cold"] > 0


def test_the_kube_play_bench():
    report = bench_keys.run(["bench.kube_play"], ["bench.kube_play"], timeout=900)
    assert report["kube_play_up"] > 0 and report["push_cold"] > 0
