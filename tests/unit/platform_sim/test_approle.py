"""platform_sim gives a PostgreSQL app its own role: the endpoint the app gets, kept password."""

from __future__ import annotations

import dataclasses
import stat

import pytest

from platform_sim.appfile.environment import Endpoint
from platform_sim.errors import DataServiceError
from platform_sim.files import write_json
from platform_sim.hosts.processes import ProcessTable
from platform_sim.services import provision
from platform_sim.services.provision import DataService, DataServices, Running

SUPERUSER = {"state": "ready", "host": "198.18.0.2", "port": 5432, "login": "root",
             "password": "superuser-secret"}


@pytest.fixture
def db(tmp_path):
    service = DataService("db", "postgresql", tmp_path / "db")
    service.folder.mkdir()
    write_json(service.status_file, SUPERUSER)
    return service


def with_owner(monkeypatch, owner):
    kinds = dict(provision.KINDS)
    kinds["postgresql"] = dataclasses.replace(kinds["postgresql"], owner=owner)
    monkeypatch.setattr(provision, "KINDS", kinds)


def running() -> Running:
    return Running(Endpoint("198.18.0.2", 5432, "root", "superuser-secret"), "", "Local", False, 0)


def test_the_app_gets_its_own_role_made_by_the_superuser_and_its_password_is_kept(
    db, monkeypatch
):
    calls = []
    with_owner(monkeypatch, lambda status, *role: calls.append((status["login"], *role)))
    services = DataServices(ProcessTable(), base_env={})
    first = services._owned(db, running()).endpoint
    assert (first.login, first.database) == ("app", "app")
    assert (first.host, first.port) == ("198.18.0.2", 5432)
    assert first.password != "superuser-secret" and len(first.password) >= 24
    assert calls == [("root", "app", first.password, "app")]  # made by the superuser
    assert stat.S_IMODE((db.folder / "app-role.json").stat().st_mode) == 0o600
    assert services._owned(db, running()).endpoint == first  # the next push: the same role
    assert len(calls) == 2  # made again each time (a changed password takes effect)


def test_a_role_that_cannot_be_made_stops_the_push_in_one_line(db, monkeypatch):
    def refuse(*_):
        raise RuntimeError("permission denied to create role\nDETAIL: more")

    with_owner(monkeypatch, refuse)
    with pytest.raises(DataServiceError) as caught:
        DataServices(ProcessTable(), base_env={})._owned(db, running())
    assert caught.value.message == (
        "[db] cannot give the app its role 'app': permission denied to create role"
    )


def test_a_kind_without_roles_keeps_the_platforms_login(tmp_path):
    broker = DataService("broker", "rabbitmq", tmp_path / "broker")
    same = running()
    assert DataServices(ProcessTable(), base_env={})._owned(broker, same) is same
