"""The machine's pace stretches stated time bounds on a slower machine, within a limit."""

import pytest

from tests import pace


@pytest.fixture(autouse=True)
def _measured_afresh():
    pace.pace.cache_clear()
    yield
    pace.pace.cache_clear()


@pytest.mark.parametrize(
    ("workload", "expected"),
    [
        (pace.REFERENCE_SECONDS / 3, 1.0),  # a faster machine keeps the bounds as stated
        (pace.REFERENCE_SECONDS * 4, 4.0),
        (pace.REFERENCE_SECONDS * 100, pace.LIMIT),  # a stuck machine still fails
    ],
)
def test_bounds_are_stretched_by_the_measured_slowness(monkeypatch, workload, expected):
    monkeypatch.setattr(pace, "_workload_seconds", lambda: workload)
    assert pace.pace() == pytest.approx(expected)
    assert pace.within(15) == pytest.approx(15 * expected)


def test_the_best_of_the_tries_counts(monkeypatch):
    times = iter([pace.REFERENCE_SECONDS * n for n in (9, 2, 5)])
    monkeypatch.setattr(pace, "_workload_seconds", lambda: next(times))
    assert pace.pace() == pytest.approx(2.0)


def test_the_reference_workload_runs():
    assert pace._workload_seconds() > 0
