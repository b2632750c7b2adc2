"""Anonymous job submission is rate-limited per client network: HTTP 429 with Retry-After."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client, override_settings

from minestrone import sessions
from minestrone.monitor.store import DatabaseStore
from minestrone.soup import throttle, views
from minestrone.throttle.models import Hit

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


@pytest.fixture
def queued(monkeypatch):
    """The jobs the editor queued (no broker)."""
    names = []

    def queue(name, routing_key):
        names.append(name)
        return f"00000000-0000-0000-0000-{len(names):012d}"

    monkeypatch.setattr(views.EditorView, "queue_job", staticmethod(queue))
    return names


def post_job(address: str, client: Client | None = None, name: str = "soup"):
    """Submit the editor form from ``address`` (the address our one proxy saw)."""
    return (client or Client()).post(
        "/", {"job_name": name, "routing_key_name": "urgent"}, HTTP_X_FORWARDED_FOR=address
    )


@override_settings(SOUP_ANONYMOUS_JOB_RATE="3/m", MINESTRONE_TRUSTED_PROXIES=1)
def test_the_fourth_job_in_a_minute_is_refused_with_retry_after(queued):
    assert [post_job("198.51.100.7").status_code for _ in range(3)] == [302] * 3
    refused = post_job("198.51.100.7", name="one-too-many")
    assert refused.status_code == 429
    # the window frees a place when the first of the three leaves it: about a minute from now
    assert 50 <= int(refused["Retry-After"]) <= 60
    assert "was <strong>not</strong> queued" in refused.content.decode()
    assert "one-too-many" not in queued and len(queued) == 3
    assert post_job("198.51.100.8").status_code == 302  # another client is not held back


@override_settings(SOUP_ANONYMOUS_JOB_RATE="2/m", MINESTRONE_TRUSTED_PROXIES=1)
def test_an_ipv6_client_is_counted_by_its_64(queued):
    assert post_job("2001:db8:5:5::1").status_code == 302
    assert post_job("2001:db8:5:5:aaaa::2").status_code == 302
    assert post_job("2001:db8:5:5:ffff:ffff:ffff:ffff").status_code == 429
    assert post_job("2001:db8:5:6::1").status_code == 302


@override_settings(SOUP_ANONYMOUS_JOB_RATE="1/h", MINESTRONE_TRUSTED_PROXIES=1)
def test_a_forged_forwarded_for_does_not_escape_the_limit(queued):
    statuses = [post_job(f"203.0.113.{n}, 198.51.100.7").status_code for n in range(3)]
    assert statuses == [302, 429, 429]


@override_settings(SOUP_ANONYMOUS_JOB_RATE="1/h", MINESTRONE_TRUSTED_PROXIES=1)
def test_logged_in_users_are_not_limited(queued):
    from django.contrib.auth.models import User

    client = Client()
    client.force_login(User.objects.create_user("cook"))
    assert [post_job("198.51.100.7", client).status_code for _ in range(3)] == [302] * 3


@override_settings(SOUP_ANONYMOUS_JOB_RATE="0", MINESTRONE_TRUSTED_PROXIES=1)
def test_a_rate_of_zero_lifts_the_limit(queued):
    assert {post_job("198.51.100.7").status_code for _ in range(5)} == {302}


@override_settings(SOUP_ANONYMOUS_JOB_RATE="3/m")
def test_retry_after_is_when_the_oldest_job_leaves_the_window():
    for offset in (0, 10, 20):
        assert throttle.seconds_to_wait("198.51.100.7", NOW + offset * SECOND) == 0
    assert throttle.seconds_to_wait("198.51.100.7", NOW + 30 * SECOND) == 30
    assert throttle.seconds_to_wait("198.51.100.7", NOW + 59.5 * SECOND) == 1
    assert throttle.seconds_to_wait("198.51.100.7", NOW + 61 * SECOND) == 0  # t=0 has left
    assert Hit.objects.count() == 4  # refused attempts are not counted


def test_the_cameras_cleanup_deletes_expired_sessions_and_spent_counts():
    Hit.objects.create(scope=throttle.SCOPE, key="198.51.100.7", at=NOW - timedelta(hours=2))
    Hit.objects.create(scope=throttle.SCOPE, key="198.51.100.7", at=NOW - timedelta(minutes=5))
    for key, expiry in (("expired", NOW - SECOND), ("alive", NOW + timedelta(days=1))):
        Session.objects.create(session_key=key, session_data="", expire_date=expiry)
    DatabaseStore().cleanup(NOW)
    assert list(Session.objects.values_list("session_key", flat=True)) == ["alive"]
    assert [row.at for row in Hit.objects.all()] == [NOW - timedelta(minutes=5)]


def test_clearing_sessions_that_expire_by_themselves_deletes_nothing():
    with override_settings(SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies"):
        assert sessions.clear_expired(NOW) == 0
