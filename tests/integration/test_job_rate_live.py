"""The anonymous job rate limit and the session cleanup on real PostgreSQL (an ``inet`` column
for the client's network). Nothing is sent to the broker: other tests count its queues."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client, override_settings

from minestrone.monitor.store import DatabaseStore
from minestrone.soup import views
from minestrone.soup.models import JobSubmission

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    """Jobs taken as queued, without a message."""
    monkeypatch.setattr(
        views.EditorView,
        "queue_job",
        staticmethod(lambda name, key: "0" * 8 + "-0000" * 3 + "-" + "0" * 12),
    )


def post_job(address: str):
    return Client().post(
        "/", {"job_name": "rate", "routing_key_name": "rate"}, HTTP_X_FORWARDED_FOR=address
    )


@override_settings(SOUP_ANONYMOUS_JOB_RATE="2/h", MINESTRONE_TRUSTED_PROXIES=1)
def test_an_ipv6_64_is_held_to_the_rate_with_retry_after():
    assert post_job("2001:db8:9:9::1").status_code == 302
    assert post_job("2001:db8:9:9:1:2:3:4").status_code == 302
    refused = post_job("2001:db8:9:9:ffff::1")
    assert refused.status_code == 429 and 3500 < int(refused["Retry-After"]) <= 3600
    assert post_job("2001:db8:9:a::1").status_code == 302
    assert set(JobSubmission.objects.values_list("network", flat=True)) == {
        "2001:db8:9:9::",
        "2001:db8:9:a::",
    }


def test_the_cleanup_deletes_expired_sessions_and_spent_counts():
    now = datetime.now(UTC)
    Session.objects.create(session_key="old", session_data="", expire_date=now - timedelta(1))
    Session.objects.create(session_key="new", session_data="", expire_date=now + timedelta(1))
    JobSubmission.objects.create(network="198.51.100.7", at=now - timedelta(hours=2))
    DatabaseStore().cleanup(now)
    assert list(Session.objects.values_list("session_key", flat=True)) == ["new"]
    assert not JobSubmission.objects.exists()
