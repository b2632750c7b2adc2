"""The container benchmark finishes and prints the keys the README lists; its image build
reuses the layers of the images this run built for the other container tests. Its cold push is
the Kubernetes benchmark's baseline too (test_kube_play_bench): one cold push for both."""

from __future__ import annotations

import pytest

from tests import bench_keys

from .conftest import PushColdFigure

pytestmark = pytest.mark.integration

# A bench removes the images it built when it ends, and with them every layer no other image
# holds: without the run's images (``built``) alive meanwhile, its build starts cold (apt, the
# virtualenv: minutes on 2 cores) however many times it ran before.


def test_the_container_bench_with_cached_layers(built, tmp_path_factory):
    figure = PushColdFigure(tmp_path_factory)
    figure.write(figure.STARTED)
    measured = figure.FAILED
    try:
        report = bench_keys.run(
            ["bench.containers", "--reuse-layers"], ["bench.containers"], timeout=900
        )
        assert report["compose_up_ready"] > 0 and report["push_cold"] > 0
        assert report["ratios"]["compose_up_vs_push_cold"] == round(
            report["compose_up_ready"] / report["push_cold"], 2
        )
        measured = str(report["push_cold"])
    finally:
        figure.write(measured)
