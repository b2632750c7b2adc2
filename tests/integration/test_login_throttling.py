"""Admin login throttling (django-axes) on the real PostgreSQL: user AND address are locked out."""

import logging

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from minestrone.deployment.admin_account import unlock

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "right-horse-battery-staple-7"  # noqa: S105 - a test account's
LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture
def admin_user(db):
    return get_user_model().objects.create_superuser("admin", password=PASSWORD)


def log_in(address, password, *, forwarded=None):
    """One login POST from ``address``, as the platform's two proxies would pass it on."""
    client = Client(REMOTE_ADDR="", enforce_csrf_checks=False)
    headers = {"HTTP_X_FORWARDED_FOR": forwarded or f"{address}, 127.0.0.1"}
    response = client.post(LOGIN, {"username": "admin", "password": password}, **headers)
    return response.status_code


@override_settings(MINESTRONE_TRUSTED_PROXIES=2)
def test_twenty_wrong_passwords_lock_the_account_and_address_out_but_not_another(
    admin_user, caplog
):
    with caplog.at_level(logging.WARNING, logger="axes"):
        statuses = [log_in("198.51.100.7", f"wrong-{n}") for n in range(20)]
    assert statuses[:9] == [200] * 9  # the form again, with its error
    assert set(statuses[9:]) == {429}  # the tenth failure locks, the rest are refused
    assert log_in("198.51.100.7", PASSWORD) == 429  # even the right password, from there
    assert log_in("203.0.113.9", PASSWORD) == 302  # from another address: logged in
    attempt = AccessAttempt.objects.get(username="admin")
    assert attempt.ip_address == "198.51.100.7"
    assert attempt.failures_since_start >= 10
    assert "after repeated login failures" in caplog.text  # logged


@override_settings(MINESTRONE_TRUSTED_PROXIES=2)
def test_an_address_a_client_forges_in_x_forwarded_for_is_ignored(admin_user):
    for n in range(10):
        forged = f"10.0.0.{n}, 198.51.100.7, 127.0.0.1"
        log_in(None, f"wrong-{n}", forwarded=forged)
    assert log_in("198.51.100.7", PASSWORD) == 429
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["198.51.100.7"]


@override_settings(MINESTRONE_TRUSTED_PROXIES=2)
def test_unlock_lets_the_right_password_in_again(admin_user):
    for n in range(10):
        log_in("198.51.100.7", f"wrong-{n}")
    assert log_in("198.51.100.7", PASSWORD) == 429
    assert unlock("admin") == 1
    assert log_in("198.51.100.7", PASSWORD) == 302


def test_lockouts_are_listed_in_the_admin(admin_user):
    AccessAttempt.objects.create(
        username="admin", ip_address="198.51.100.7", user_agent="t", failures_since_start=10
    )
    client = Client()
    client.force_login(admin_user)
    page = client.get("/admin/axes/accessattempt/").content.decode()
    assert "198.51.100.7" in page
