"""The one throttle: requests counted in the database per scope and key over a sliding window;
a refused request is not counted; the insert comes before the count, so that two requests at
once cannot both take the last place."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from minestrone.monitor.api import throttle as api_throttle
from minestrone.monitor.errors import MonitorError
from minestrone.soup import throttle as soup_throttle
from minestrone.throttle import limits
from minestrone.throttle.models import Hit

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def test_a_key_is_held_to_its_count_within_the_window():
    waits = [limits.seconds_to_wait("s", "k", 2, 60, NOW + n * SECOND) for n in (0, 10, 20)]
    assert waits == [0, 0, 40]  # the request at 0 leaves the window at 60
    assert limits.seconds_to_wait("s", "k", 2, 60, NOW + 61 * SECOND) == 0


def test_scopes_and_keys_are_counted_apart():
    assert limits.seconds_to_wait("s", "k", 1, 60, NOW) == 0
    assert limits.seconds_to_wait("s", "other", 1, 60, NOW) == 0
    assert limits.seconds_to_wait("other", "k", 1, 60, NOW) == 0
    assert limits.seconds_to_wait("s", "k", 1, 60, NOW) == 60


def test_a_refused_request_leaves_no_row():
    limits.seconds_to_wait("s", "k", 1, 60, NOW)
    for n in range(1, 5):
        assert limits.seconds_to_wait("s", "k", 1, 60, NOW + n * SECOND) > 0
    assert Hit.objects.count() == 1


def test_a_fractional_count_admits_its_whole_part_within_the_window():
    waits = [limits.seconds_to_wait("s", "k", 2.5, 1, NOW) for _ in range(4)]
    assert waits == [0, 0, 0, 1]


def test_two_requests_at_once_do_not_both_take_the_last_place():
    """The other request runs whole between this one's first statement and the next: with the
    count first, both would see no request yet and both would pass."""
    other = []

    def the_other_request_comes_now(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not other:
            other.append(None)
            other[0] = limits.seconds_to_wait("s", "k", 1, 60, NOW)
        return result

    with connection.execute_wrapper(the_other_request_comes_now):
        mine = limits.seconds_to_wait("s", "k", 1, 60, NOW)
    assert sorted([mine, *other]) == [0, 60]
    assert Hit.objects.count() == 1


def test_the_cleanup_forgets_what_no_rate_counts_any_more():
    Hit.objects.create(scope="s", key="k", at=NOW - timedelta(hours=2))
    Hit.objects.create(scope="s", key="k", at=NOW - timedelta(minutes=5))
    assert limits.forget_before(NOW) == 1
    assert list(Hit.objects.values_list("at", flat=True)) == [NOW - timedelta(minutes=5)]


@override_settings(SOUP_ANONYMOUS_JOB_RATE="1/m", MONITOR_API_REQUESTS_PER_MINUTE=1)
def test_the_api_and_the_job_rate_share_the_one_table_in_their_own_scopes():
    assert soup_throttle.seconds_to_wait("198.51.100.7", NOW) == 0
    api_throttle.check("198.51.100.7", NOW)  # the same text as a key: another scope
    with pytest.raises(MonitorError, match="too many requests"):
        api_throttle.check("198.51.100.7", NOW + SECOND)
    assert sorted(Hit.objects.values_list("scope", flat=True)) == sorted(
        [soup_throttle.SCOPE, api_throttle.SCOPE]
    )


@override_settings(MONITOR_API_REQUESTS_PER_MINUTE=0)
def test_an_api_limit_of_zero_refuses_every_request():
    with pytest.raises(MonitorError, match="retry in 60 s"):
        api_throttle.check("token-1", NOW)
    assert not Hit.objects.exists()


def test_no_missing_migrations():
    call_command("makemigrations", "throttle", "soup", "--check", "--dry-run", verbosity=0)
