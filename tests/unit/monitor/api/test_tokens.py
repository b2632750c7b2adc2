"""Tokens: stored as hashes, issued once (command, admin), revoked; who may call what."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

from minestrone.monitor.api.tokens import ApiToken, digest
from tests.unit.monitor.api.conftest import ALL, Api, make_user

pytestmark = pytest.mark.django_db
TASKS = "/api/tasks"


def test_only_a_hash_is_stored():
    row, token = ApiToken.objects.issue(make_user())
    assert token.startswith("msk_") and len(token) > 40
    stored = ApiToken.objects.values_list("key_hash", flat=True).get(pk=row.pk)
    assert stored == digest(token) and token not in str(ApiToken.objects.values().get())


def test_command_prints_the_token_once_and_it_works():
    make_user("bob")
    out = StringIO()
    call_command("api_token", "create", "bob", "--read-only", stdout=out)
    token = out.getvalue().strip()
    assert re.fullmatch(r"msk_[A-Za-z0-9_-]{43}", token)
    row = ApiToken.objects.get()
    assert row.read_only and row.user.username == "bob" and token not in row.key_hash
    assert Api(token).get(TASKS).status_code == 200
    listing = StringIO()
    call_command("api_token", "list", stdout=listing)
    assert token not in listing.getvalue() and "bob" in listing.getvalue()


def test_command_refuses_an_unknown_user_in_one_line():
    with pytest.raises(CommandError, match="no user named 'nobody'"):
        call_command("api_token", "create", "nobody")


def test_command_revokes():
    row, token = ApiToken.objects.issue(make_user())
    call_command("api_token", "revoke", str(row.pk), stdout=StringIO())
    response = Api(token).get(TASKS)
    assert response.status_code == 401 and response.json() == {"error": "unknown or revoked token"}


def test_admin_issues_a_token_shown_once_and_revokes_it(admin_client):
    user = make_user("carol")
    response = admin_client.post(
        "/admin/monitor/apitoken/add/", {"user": user.pk, "name": "ci", "read_only": "on"}
    )
    assert response.status_code == 200
    token = re.search(r'<code id="api-token"[^>]*>([^<]+)</code>', response.content.decode())[1]
    assert "no-store" in response["Cache-Control"]
    row = ApiToken.objects.get()
    assert row.key_hash == digest(token) and row.read_only and row.name == "ci"
    page = admin_client.get(f"/admin/monitor/apitoken/{row.pk}/change/")
    assert page.status_code == 200 and token not in page.content.decode()
    assert Api(token).get(TASKS).status_code == 200
    admin_client.post(
        "/admin/monitor/apitoken/", {"action": "revoke_tokens", "_selected_action": [row.pk]}
    )
    assert Api(token).get(TASKS).status_code == 401


@pytest.mark.parametrize(
    "header", [None, "Bearer", "Bearer msk_wrong", "Basic YTpi", "Token msk_x", "Bearer  "]
)
def test_no_or_bad_credentials_are_401(header):
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    response = Client().get(TASKS, **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "error" in response.json()


@pytest.mark.parametrize(
    ("perms", "staff", "active", "status"),
    [
        (("view_taskstate",), True, True, 200),
        ((), True, True, 403),  # no permission
        (("view_workerstate",), True, True, 403),  # the wrong one
        (("view_taskstate",), False, True, 403),  # not staff: not in the admin either
        (("view_taskstate",), True, False, 401),  # inactive: the token no longer works
    ],
)
def test_permissions_are_the_admins(perms, staff, active, status):
    _, token = ApiToken.objects.issue(make_user(perms=perms, staff=staff, active=active))
    assert Api(token).get(TASKS).status_code == status


def test_read_only_tokens_cannot_act(control):
    _, token = ApiToken.objects.issue(make_user(), read_only=True)
    response = Api(token).post("/api/task/rate-limit/app.add", {"ratelimit": "1/s"})
    assert response.status_code == 403 and "read-only" in response.json()["error"]
    assert control.calls == []


def test_view_permission_alone_cannot_act(control):
    _, token = ApiToken.objects.issue(make_user(perms=("view_taskstate",)))
    response = Api(token).post("/api/task/rate-limit/app.add", {"ratelimit": "1/s"})
    assert response.status_code == 403 and "monitor.change_taskstate" in response.json()["error"]
    assert control.calls == []


def test_a_session_reads_and_keeps_csrf_on_actions(control):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("dave"))
    assert client.get(TASKS).status_code == 200
    refused = client.post("/api/task/rate-limit/app.add", {"ratelimit": "1/s"})
    assert refused.status_code == 403 and "CSRF" in refused.json()["error"]
    assert control.calls == []
    client.get("/admin/")  # sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    accepted = client.post(
        "/api/task/rate-limit/app.add", {"ratelimit": "1/s"}, HTTP_X_CSRFTOKEN=csrf
    )
    assert accepted.status_code == 200, accepted.content
    assert [name for name, *_ in control.calls] == ["rate_limit"]


def test_a_token_needs_no_csrf(control):
    _, token = ApiToken.objects.issue(make_user())
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/task/rate-limit/app.add", {"ratelimit": "1/s"}, HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 200


@override_settings(MONITOR_API_REQUESTS_PER_MINUTE=3)
def test_throttled_per_token():
    user = make_user()
    _, first = ApiToken.objects.issue(user)
    _, second = ApiToken.objects.issue(user)
    statuses = [Api(first).get(TASKS).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = Api(first).get(TASKS)
    assert int(refused["Retry-After"]) >= 1 and "too many requests" in refused.json()["error"]
    assert Api(second).get(TASKS).status_code == 200  # another token: its own count


def test_wrong_method_is_405_json(api):
    response = api.post(TASKS)
    assert response.status_code == 405 and response["Allow"] == "GET"
    assert response.json()["error"] == "method not allowed: use GET"


def test_the_last_use_is_recorded(api):
    api.get(TASKS)
    assert ApiToken.objects.get().last_used is not None


def test_a_staff_user_issues_tokens_only_for_themselves(client):
    boss = make_user("boss")
    boss.is_superuser = True
    boss.save()
    clerk = make_user("clerk", perms=("add_apitoken", "view_apitoken"))
    client.force_login(clerk)
    refused = client.post("/admin/monitor/apitoken/add/", {"user": boss.pk, "name": "mine"})
    assert refused.status_code == 200 and not ApiToken.objects.exists()
    assert "Select a valid choice" in refused.content.decode()
    issued = client.post("/admin/monitor/apitoken/add/", {"user": clerk.pk, "name": "mine"})
    assert issued.status_code == 200 and ApiToken.objects.get().user == clerk


def test_a_staff_user_sees_and_revokes_only_their_own_tokens_in_the_admin():
    alice = make_user("alice", perms=(*ALL, "view_apitoken", "change_apitoken"))
    theirs, their_token = ApiToken.objects.issue(make_user("bob"))
    mine, _ = ApiToken.objects.issue(alice)
    client = Client()
    client.force_login(alice)
    listing = client.get("/admin/monitor/apitoken/").content.decode()
    assert f"/admin/monitor/apitoken/{mine.pk}/change/" in listing
    assert f"/admin/monitor/apitoken/{theirs.pk}/change/" not in listing
    assert client.get(f"/admin/monitor/apitoken/{theirs.pk}/change/").status_code == 302
    client.post(
        "/admin/monitor/apitoken/", {"action": "revoke_tokens", "_selected_action": [theirs.pk]}
    )
    assert Api(their_token).get(TASKS).status_code == 200
