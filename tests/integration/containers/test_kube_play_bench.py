"""The Kubernetes benchmark finishes and prints the keys the README lists; its build reuses the
layers of the images this run built. Its baseline is a cold push measured in the same run: the
container benchmark's, when this run has it (one cold push for both), else its own. It runs in
the kube-play tests' unit, last (tests/scheduling.py): the runner's pods have fixed names."""

from __future__ import annotations

import pytest

from tests import bench_keys
from tests.integration.platform_sim.conftest import wait_for

from .conftest import IMAGE_WAIT_TIMEOUT, shared_folder
from .test_container_bench import PUSH_COLD_FILE

pytestmark = pytest.mark.integration


def container_bench_push_cold(request, tmp_path_factory) -> str | None:
    """The container benchmark's cold push in seconds, once it has run, if this run has it."""
    if not any(item.path.name == "test_container_bench.py" for item in request.session.items):
        return None
    found = shared_folder(tmp_path_factory) / PUSH_COLD_FILE
    wait_for(found.exists, IMAGE_WAIT_TIMEOUT, "the container benchmark's cold push")
    measured = found.read_text()
    if measured == "failed":
        pytest.fail("the container benchmark failed: no cold push of this run to compare with")
    return measured


def test_the_kube_play_bench(built, request, tmp_path_factory):
    push_cold = container_bench_push_cold(request, tmp_path_factory)
    argv = ["bench.kube_play"] + (["--push-cold", push_cold] if push_cold else [])
    report = bench_keys.run(argv, ["bench.kube_play"], timeout=900)
    assert report["kube_play_up"] > 0 and report["push_cold"] > 0
    if push_cold:
        assert report["push_cold"] == float(push_cold)
    assert report["ratio_export_to_answering_vs_push_cold"] == round(
        report["export_to_answering"] / report["push_cold"], 2
    )
