"""Admin lookups that read indexes, not whole tables; the capped count; rates; the notice."""

from datetime import UTC, datetime, timedelta

import pytest

from minestrone.monitor.errors import InvalidRate
from minestrone.monitor.models import TaskState
from minestrone.monitor.notice import idle_notice
from minestrone.monitor.paginator import CappedPaginator
from minestrone.monitor.rates import parse_rate
from minestrone.monitor.states import progress

NOW = datetime(2024, 1, 1, 12, tzinfo=UTC)


def add(task_id, **fields):
    TaskState.objects.record(
        [
            {
                "task_id": task_id,
                "state": "SUCCESS",
                "tstamp": NOW,
                "progress": progress("SUCCESS", 0),
                **fields,
            }
        ]
    )


@pytest.mark.django_db
def test_distinct_values_skip_nulls_and_sort():
    for n, name in enumerate(["b", "a", None, "b", "c"]):
        add(f"t{n}", name=name)
    assert TaskState.objects.distinct_values("name") == ["a", "b", "c"]
    assert TaskState.objects.distinct_values("name", limit=2) == ["a", "b"]
    assert TaskState.objects.distinct_values("worker") == []


@pytest.mark.django_db
@pytest.mark.parametrize(("rows", "count", "capped"), [(0, 0, False), (3, 3, False), (4, 4, True)])
def test_the_paginator_counts_up_to_the_cap(rows, count, capped):
    for n in range(rows):
        add(f"t{n}")
    paginator = CappedPaginator(TaskState.objects.all(), 2)
    paginator.cap = 3
    assert (paginator.count, paginator.capped) == (count, capped)


@pytest.mark.parametrize("rate", ["10/m", "2.5/s", "100/h", "100", "0", " 5/m "])
def test_valid_rates(rate):
    assert parse_rate(rate) == rate.strip()


@pytest.mark.parametrize("rate", ["", "fast", "10/d", "-1/m", "1e3", "10 / m", "/m", None])
def test_invalid_rates(rate):
    with pytest.raises(InvalidRate, match="such as 10/m"):
        parse_rate(rate)


QUIET = timedelta(minutes=10)


@pytest.mark.parametrize(
    ("task_age", "heartbeat_age", "online", "expected"),
    [
        (timedelta(minutes=1), None, 0, None),
        (None, None, 0, "no worker heartbeat either"),
        (timedelta(hours=1), timedelta(hours=1), 0, "no worker heartbeat either"),
        (timedelta(hours=1), timedelta(seconds=3), 1, "though workers are online"),
        (None, timedelta(seconds=3), 0, "though workers are online"),
    ],
)
def test_idle_notice(task_age, heartbeat_age, online, expected):
    notice = idle_notice(
        now=NOW,
        quiet_after=QUIET,
        newest_task_event=None if task_age is None else NOW - task_age,
        newest_heartbeat=None if heartbeat_age is None else NOW - heartbeat_age,
        online_workers=online,
    )
    if expected is None:
        assert notice is None
    else:
        assert expected in notice


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata"])
@pytest.mark.parametrize("kind", ["year", "month", "day"])
def test_the_date_hierarchy_probes_find_what_distinct_finds(zone, kind):
    from django.utils import timezone

    moments = [
        datetime(2023, 12, 31, 23, 30, tzinfo=UTC),  # a different day, month, year elsewhere
        datetime(2024, 1, 1, 3, 0, tzinfo=UTC),
        datetime(2024, 1, 15, 12, 0, tzinfo=UTC),
        datetime(2024, 3, 10, 7, 0, tzinfo=UTC),  # DST starts in New York
        datetime(2024, 3, 10, 7, 0, tzinfo=UTC) + timedelta(days=40),
    ]
    for n, moment in enumerate(moments):
        TaskState.objects.record(
            [{"task_id": f"t{n}", "state": "SUCCESS" if n % 2 else "FAILURE", "tstamp": moment,
              "progress": progress("SUCCESS", 0)}]
        )  # fmt: skip
    with timezone.override(zone):
        for queryset in (
            TaskState.admin_objects.all(),
            TaskState.admin_objects.filter(state="SUCCESS"),
        ):
            expected = list(
                TaskState.objects.filter(pk__in=queryset.values("pk")).datetimes("tstamp", kind)
            )
            assert queryset.datetimes("tstamp", kind) == expected
            assert queryset.datetimes("tstamp", kind, order="DESC") == expected[::-1]


@pytest.mark.django_db
def test_the_date_hierarchy_probes_cost_one_query_for_all_periods():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for day in range(1, 29, 3):
        add(f"t{day}", tstamp=datetime(2024, 2, day, tzinfo=UTC))
    with CaptureQueriesContext(connection) as queries:
        days = TaskState.admin_objects.all().datetimes("tstamp", "day")
    assert len(days) == 10
    assert len(queries) == 2  # the bounds, then every day's probe at once
    assert "DISTINCT" not in queries.captured_queries[1]["sql"].upper()


@pytest.mark.django_db
def test_an_empty_table_has_no_periods():
    assert TaskState.admin_objects.all().datetimes("tstamp", "day") == []
