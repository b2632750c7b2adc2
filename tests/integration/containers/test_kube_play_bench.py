"""The Kubernetes benchmark finishes and prints the keys the README lists; its build reuses the
layers of the images this run built, and it measures its own cold push as the baseline. It
runs in the kube-play tests' unit (tests/scheduling.py): the runner's pods have fixed names."""

from __future__ import annotations

import pytest

from tests import bench_keys

pytestmark = pytest.mark.integration


def test_the_kube_play_bench(built):
    report = bench_keys.run(["bench.kube_play"], ["bench.kube_play"], timeout=900)
    assert report["kube_play_up"] > 0 and report["push_cold"] > 0
    assert report["ratio_export_to_answering_vs_push_cold"] == round(
        report["export_to_answering"] / report["push_cold"], 2
    )
