"""The Kubernetes benchmark finishes and prints the keys the README lists; its build reuses the
layers of the images this run built. Its baseline is a cold push measured in the same run: the
container benchmark's when that one has started by then (one cold push for both), else its own.
It runs in the kube-play tests' unit, last (tests/scheduling.py): the runner's pods have fixed
names."""

from __future__ import annotations

import pytest

from tests import bench_keys
from tests.integration.platform_sim.conftest import wait_for
from tests.pace import within

from .conftest import PushColdFigure

pytestmark = pytest.mark.integration
BENCH_TIMEOUT = 900  # bench_keys.run's bound for one benchmark


def container_bench_push_cold(tmp_path_factory) -> str | None:
    """The container benchmark's cold push in seconds, if it has started in this run and
    measured one (it is waited for); None otherwise."""
    figure = PushColdFigure(tmp_path_factory)
    if figure.read() is None:
        return None
    wait_for(
        lambda: figure.read() != figure.STARTED, within(BENCH_TIMEOUT),
        "the container benchmark's cold push",
    )  # fmt: skip
    measured = figure.read()
    return None if measured == figure.FAILED else measured


def test_the_kube_play_bench(built, tmp_path_factory):
    push_cold = container_bench_push_cold(tmp_path_factory)
    argv = ["bench.kube_play"] + (["--push-cold", push_cold] if push_cold else [])
    report = bench_keys.run(argv, ["bench.kube_play"], timeout=BENCH_TIMEOUT)
    assert report["kube_play_up"] > 0 and report["push_cold"] > 0
    if push_cold:
        assert report["push_cold"] == float(push_cold)
    assert report["ratio_export_to_answering_vs_push_cold"] == round(
        report["export_to_answering"] / report["push_cold"], 2
    )
