"""The push and redeploy benchmarks finish at a tiny size (one client, a one-second baseline) and
print the keys the README lists. Each pushes its own copy of this repository, as it does at full
size, and destroys it. (The fault bench runs on the fault suite's app: test_faults.py.)"""

from __future__ import annotations

import pytest

from tests import bench_keys

from .conftest import _missing_requirement

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def can_push():
    """Pushing needs root and nginx: a failure saying so, never a skip."""
    reason = _missing_requirement()
    if reason:
        pytest.fail(f"{reason}: run bin/bootstrap (nginx, util-linux) and the tests as root")


def test_the_push_bench_cold_then_warm():
    report = bench_keys.run(["bench.push", "--no-warmup"], ["bench.push"])
    assert report["cold"]["status"] == report["warm"]["status"] == 200


def test_the_redeploy_bench_with_one_client():
    report = bench_keys.run(
        ["bench.redeploy", "--clients", "1", "--baseline-seconds", "1"], ["bench.redeploy"]
    )
    assert report["baseline"]["requests"] > 0
