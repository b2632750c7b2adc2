"""The machine's pace stretches stated time bounds on a slower machine, within a limit."""

import os

import pytest

from tests import pace


@pytest.fixture(autouse=True)
def _measured_afresh(monkeypatch):
    monkeypatch.delenv(pace.PROCESSES_VARIABLE, raising=False)  # one test process at a time
    monkeypatch.delenv(pace.WORKERS_VARIABLE, raising=False)
    monkeypatch.delenv(pace.PACE_VARIABLE, raising=False)
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


@pytest.mark.parametrize(
    ("environ", "cpus", "expected"),
    [
        ({}, 2, 1.0),  # one test at a time: the bounds as stated
        ({pace.WORKERS_VARIABLE: "4"}, 2, 2.0),  # four xdist workers on two cores
        ({pace.WORKERS_VARIABLE: "4"}, 8, 1.0),  # enough cores: no stretch
        ({pace.WORKERS_VARIABLE: "4", pace.PROCESSES_VARIABLE: "6"}, 2, 3.0),  # other envs too
        ({pace.PROCESSES_VARIABLE: "many"}, 2, 1.0),  # not a number: ignored
    ],
)
def test_processes_sharing_the_cores_stretch_the_bounds(environ, cpus, expected):
    assert pace.contention(environ, cpus) == pytest.approx(expected)


def test_within_stretches_by_pace_and_contention(monkeypatch):
    monkeypatch.setattr(pace, "_workload_seconds", lambda: pace.REFERENCE_SECONDS * 2)
    monkeypatch.setenv(pace.WORKERS_VARIABLE, str(3 * (os.cpu_count() or 1)))
    assert pace.within(10) == pytest.approx(60)


def test_quick_stretches_yet_stays_below_half_the_timeout(monkeypatch):
    monkeypatch.setattr(pace, "within", lambda seconds: seconds * 6)
    assert pace.quick(2, timeout=120) == 12
    assert pace.quick(5, timeout=40) == 20  # waiting out the timeout still fails


def test_workers_take_the_pace_the_controller_measured(monkeypatch):
    monkeypatch.setattr(pace, "_workload_seconds", lambda: pace.REFERENCE_SECONDS * 3)
    assert pace.share_pace() == pytest.approx(3.0)
    pace.pace.cache_clear()  # a worker: a process of its own, started afterwards
    monkeypatch.setattr(pace, "_workload_seconds", lambda: pace.REFERENCE_SECONDS)  # idle now
    assert pace.pace() == pytest.approx(3.0)


@pytest.mark.parametrize("given", ["fast", "0.2", "99", ""])
def test_a_pace_given_out_of_range_is_measured_instead(monkeypatch, given):
    monkeypatch.setenv(pace.PACE_VARIABLE, given)
    monkeypatch.setattr(pace, "_workload_seconds", lambda: pace.REFERENCE_SECONDS * 2)
    assert pace.pace() == pytest.approx(2.0)
