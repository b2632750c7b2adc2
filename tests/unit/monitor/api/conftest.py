"""Fixtures of the API's tests: users with permissions, their tokens, a fake remote control."""

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from minestrone.monitor.api import action_views
from minestrone.monitor.api.tokens import ApiToken
from minestrone.monitor.control import RemoteControl
from tests.unit.monitor.test_admin import FakeControl

ALL = ("view_taskstate", "view_workerstate", "change_taskstate", "change_workerstate")


def make_user(name="alice", perms=ALL, staff=True, active=True):
    user = User.objects.create_user(name, password="pw", is_staff=staff, is_active=active)
    for codename in perms:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


class Api:
    """A test client that sends a bearer token with every request."""

    def __init__(self, token):
        self.token = token
        self.client = Client()

    def get(self, path, data=None, **extra):
        return self.client.get(path, data, HTTP_AUTHORIZATION=f"Bearer {self.token}", **extra)

    def post(self, path, data=None, **extra):
        return self.client.post(path, data, HTTP_AUTHORIZATION=f"Bearer {self.token}", **extra)


@pytest.fixture
def api(db):
    """A client with a read-write token of a staff user holding every monitor permission."""
    _, token = ApiToken.objects.issue(make_user())
    return Api(token)


@pytest.fixture
def control(monkeypatch):
    fake = FakeControl()
    monkeypatch.setattr(action_views, "control", lambda: RemoteControl(fake, 0.5))
    return fake
