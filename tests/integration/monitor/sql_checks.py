"""Checks of the monitor's SQL that every database must pass, called by each database's module."""

import threading

import pytest
from django.db import connection

from minestrone.monitor import charts, rollup
from minestrone.monitor.models import HourCount, SummarisedHour, TaskState
from tests.unit.monitor import test_merge_sequences


def check_merge_scenario(scenario: str) -> None:
    """Deliver the scenario's events in several orders and cuts; the row is always the same."""
    events, expected = test_merge_sequences.SCENARIOS[scenario]
    for order in test_merge_sequences.orders(events, count=4):
        TaskState.objects.all().delete()
        test_merge_sequences.deliver_in_snapshots(order, cuts=set(range(len(order))))
        test_merge_sequences.check_row(expected)


def check_summed_up_once_by_four(hour) -> None:
    """Four threads summing up one hour at once: one summary, every finished task counted."""
    errors = []

    def summarise():
        try:
            rollup.summarise(hour)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=summarise) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert SummarisedHour.objects.filter(hour=hour).count() == 1
    summed = sum(HourCount.objects.filter(summary__hour=hour).values_list("tasks", flat=True))
    finished = TaskState.objects.filter(
        tstamp__gte=hour, tstamp__lt=hour + rollup.HOUR, state__in=("SUCCESS", "FAILURE")
    ).count()
    assert summed == finished > 0


def check_percentiles(now, window_name: str) -> None:
    """The window's p95 runtimes per name are the exact ones (a day's: within a histogram
    bucket, from the hourly summaries)."""
    window = charts.WINDOWS[window_name]
    found = charts.runtime_percentiles(window, now)
    assert len(found) == 5
    resolution = rollup.GROWTH**0.5 - 1 if window_name == "day" else 1e-9
    for stat in found:
        runtimes = sorted(
            TaskState.objects.filter(
                name=stat.name, state="SUCCESS", tstamp__gte=window.start(now), tstamp__lte=now
            ).values_list("runtime", flat=True)
        )
        assert stat.count == len(runtimes)
        assert stat.p95 == pytest.approx(charts._percentile(runtimes, 0.95), rel=resolution * 1.01)


def check_runtime_buckets() -> None:
    """The database puts each success's runtime in the histogram bucket Python does."""
    successes = TaskState.objects.filter(state="SUCCESS")
    expected: dict = {}
    for name, runtime in successes.values_list("name", "runtime"):
        expected.setdefault(name, []).append(runtime)
    found = rollup.histograms_by_name(successes)
    assert found == {name: rollup.histogram(runtimes) for name, runtimes in expected.items()}
