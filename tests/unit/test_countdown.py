"""Countdowns under a second become one second (Celery 5.7 refuses them on quorum queues)."""

from datetime import UTC, datetime, timedelta

import pytest

from minestrone.celery_app import MinestroneCelery
from minestrone.countdown import whole_seconds

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("countdown", "expected"), [(0.2, 1), (0.999, 1), (1, 1), (1.5, 1.5), (0, 0), (None, None)]
)
def test_a_countdown_under_a_second_is_one_second(countdown, expected):
    assert whole_seconds(countdown, None, NOW) == (expected, None)


def test_an_eta_under_a_second_away_is_a_one_second_countdown():
    assert whole_seconds(None, NOW + timedelta(seconds=0.3), NOW) == (1, None)
    later = NOW + timedelta(seconds=5)
    assert whole_seconds(None, later, NOW) == (None, later)
    past = NOW - timedelta(seconds=5)  # due now: sent to the queue straight away
    assert whole_seconds(None, past, NOW) == (None, past)
    naive = (NOW + timedelta(seconds=0.5)).replace(tzinfo=None)
    assert whole_seconds(None, naive, NOW) == (1, None)


def test_the_app_rounds_only_on_quorum_queues(settings):
    from kombu import Queue

    app = MinestroneCelery("t", set_as_current=False)
    app.conf.task_queues = [Queue("plain")]
    assert not app.uses_quorum_queues()
    quorum = MinestroneCelery("q", set_as_current=False)
    quorum.conf.task_queues = [Queue("q", queue_arguments={"x-queue-type": "quorum"})]
    assert quorum.uses_quorum_queues()
