"""Security settings: the client address for throttling, headers, and `check --deploy` both ways."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import RequestFactory, override_settings

from minestrone.security import client_address, client_network

ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENT = {
    "DOTCLOUD_DB_SQL_LOGIN": "root",
    "DOTCLOUD_DB_SQL_PASSWORD": "pw",
    "DOTCLOUD_DB_SQL_HOST": "127.0.0.1",
    "DOTCLOUD_DB_SQL_PORT": "5432",
    "DOTCLOUD_BROKER_AMQP_HOST": "127.0.0.1",
    "DOTCLOUD_BROKER_AMQP_PORT": "5672",
    "DOTCLOUD_BROKER_AMQP_LOGIN": "root",
    "DOTCLOUD_BROKER_AMQP_PASSWORD": "pw",
    "DJANGO_SECRET_KEY": "deploy-check-tests-only-" + "abcdefghij" * 4,
}


@pytest.mark.parametrize(
    ("hops", "forwarded", "remote", "expected"),
    [
        (2, "198.51.100.7, 127.0.0.1", "", "198.51.100.7"),
        (2, "6.6.6.6, 198.51.100.7, 127.0.0.1", "", "198.51.100.7"),  # forged entry ignored
        # fewer entries than proxies: what the nearest proxy saw, never None for everyone
        (2, "127.0.0.1", "", "127.0.0.1"),
        (2, "not-an-ip, 127.0.0.1", "10.1.1.1", "127.0.0.1"),
        (2, "", "10.1.1.1", "10.1.1.1"),
        # Compose: only the container's nginx, which appends the client's address
        (1, "6.6.6.6, 198.51.100.7", "", "198.51.100.7"),
        (1, "198.51.100.7", "", "198.51.100.7"),
        # Kubernetes: the Ingress, then the pod's nginx (which appends the Ingress's address)
        (2, "6.6.6.6, 198.51.100.7, 10.42.0.5", "", "198.51.100.7"),
        # a TLS front end before the platform's router: one more
        (3, "6.6.6.6, 198.51.100.7, 10.0.0.2, 127.0.0.1", "", "198.51.100.7"),
        (0, "6.6.6.6", "10.1.1.1", "10.1.1.1"),  # development: no proxy, X-F-F is the client's
        (0, "", "2001:db8::1", "2001:db8::1"),
        (0, "", "", None),
    ],
)
def test_client_address_is_the_one_our_first_proxy_saw(hops, forwarded, remote, expected):
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR=remote)
    with override_settings(MINESTRONE_TRUSTED_PROXIES=hops):
        assert client_address(request) == expected
    assert client_address(None) is None


def login_statuses(client_factory, forwarded_for, password="wrong", count=12):
    """Login attempts as "admin", each with its own X-Forwarded-For (REMOTE_ADDR: a socket)."""
    return [
        client_factory()
        .post(
            "/admin/login/",
            {"username": "admin", "password": password},
            REMOTE_ADDR="",
            HTTP_X_FORWARDED_FOR=forwarded_for(n),
        )
        .status_code
        for n in range(count)
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("hops", "chain"),
    [(1, "{forged}, 198.51.100.7"), (2, "{forged}, 198.51.100.7, 10.42.0.5")],
)
def test_rotating_a_forged_x_forwarded_for_does_not_escape_throttling(hops, chain):
    from django.contrib.auth.models import User
    from django.test import Client

    User.objects.create_superuser("admin", password="right-password-123")
    with override_settings(MINESTRONE_TRUSTED_PROXIES=hops):
        statuses = login_statuses(Client, lambda n: chain.format(forged=f"203.0.113.{n}"))
    assert statuses[:9] == [200] * 9 and set(statuses[9:]) == {429}


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("2001:db8:1:2::1", "2001:db8:1:2::"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::"),
        ("2001:db8:1:3::1", "2001:db8:1:3::"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("", None),
    ],
)
def test_an_ipv6_client_counts_as_its_64(address, network):
    request = RequestFactory().get("/", REMOTE_ADDR=address)
    with override_settings(MINESTRONE_TRUSTED_PROXIES=0):
        assert client_network(request) == network


@pytest.mark.django_db
def test_rotating_ipv6_addresses_within_a_64_does_not_escape_throttling():
    from django.contrib.auth.models import User
    from django.test import Client

    User.objects.create_superuser("admin", password="right-password-123")
    with override_settings(MINESTRONE_TRUSTED_PROXIES=1):
        statuses = login_statuses(Client, lambda n: f"2001:db8:7:7:{n:x}::{n + 1:x}")
        [other] = login_statuses(
            Client, lambda n: "2001:db8:7:8::1", password="right-password-123", count=1
        )
    assert statuses[:9] == [200] * 9 and set(statuses[9:]) == {429}
    assert other == 302  # the next /64 is someone else


@pytest.mark.django_db
@pytest.mark.parametrize("hops", [1, 2])
def test_clients_sending_no_header_are_not_locked_out_together(hops):
    # behind a socket REMOTE_ADDR is empty; the nearest proxy's entry must tell clients apart
    from django.contrib.auth.models import User
    from django.test import Client

    User.objects.create_superuser("admin", password="right-password-123")
    with override_settings(MINESTRONE_TRUSTED_PROXIES=hops):
        assert set(login_statuses(Client, lambda n: "198.51.100.7")[9:]) == {429}
        [status] = login_statuses(
            Client, lambda n: "198.51.100.8", password="right-password-123", count=1
        )
    assert status == 302


@pytest.mark.django_db
def test_editor_page_has_a_strict_content_security_policy(client):
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "style-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    page = response.content.decode()
    assert "<style" not in page and "style=" not in page and "<script>" not in page
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_the_readme_describes_the_policy_sent(client):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    policy = client.get("/")["Content-Security-Policy"]
    assert ("nonce" in readme.lower()) == ("nonce-" in policy)
    assert "style-src 'self'" in readme and "style-src 'self'" in policy
    # which addresses throttling counts: the variable each deployment sets
    assert "TRUSTED_PROXIES" in readme and "second entry from the right" not in readme


@pytest.mark.django_db
def test_active_page_has_the_policy_and_the_admin_keeps_djangos_defaults(client):
    assert "default-src 'self'" in client.get("/active/")["Content-Security-Policy"]
    admin = client.get("/admin/login/")
    assert "Content-Security-Policy" not in admin
    assert admin["X-Frame-Options"] == "DENY"


def check_deploy(tmp_path, **extra):
    path = tmp_path / "environment.json"
    path.write_text(json.dumps(ENVIRONMENT | extra))
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run(
        [sys.executable, "minestrone/manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**env, "MINESTRONE_ENV_FILE": str(path)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_behind_https(tmp_path):
    result = check_deploy(tmp_path, DJANGO_BEHIND_HTTPS="1")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_over_plain_http_names_what_production_lacks(tmp_path):
    result = check_deploy(tmp_path)
    assert result.returncode == 1
    found = set(re.findall(r"\(security\.(W\d+)\)", result.stderr))
    assert found == {"W004", "W008", "W012", "W016"}  # HSTS, redirect, Secure cookies
