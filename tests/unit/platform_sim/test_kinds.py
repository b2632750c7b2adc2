"""The registry of data-service kinds: each kind described once, every part asking it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from platform_sim.appfile.buildfile import SUPPORTED_TYPES, Service
from platform_sim.appfile.environment import Endpoint, data_service_variables
from platform_sim.containers import entry, images
from platform_sim.kinds import registry
from platform_sim.kinds.base import APP_DATABASE, APP_LOGIN, DOTCLOUD_TAGS
from platform_sim.kinds.registry import KINDS

RECIPES = Path(__file__).resolve().parents[3] / "backing_services" / "images"
DEFAULT_PORTS = {"postgresql": 5432, "rabbitmq": 5672}


def test_the_registry_holds_the_kinds_platform_sim_runs_by_their_type_names():
    assert {name: kind.port for name, kind in KINDS.items()} == DEFAULT_PORTS
    assert all(registry.kind(name).name == name for name in KINDS)
    with pytest.raises(KeyError):
        registry.kind("mysql")


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_part_takes_a_kind_from_the_registry(name):
    kind = KINDS[name]
    assert name in SUPPORTED_TYPES  # the build file accepts it
    assert name in images.CONTAINERIZABLE  # image build containerizes it
    assert (RECIPES / kind.image / "Containerfile").is_file()  # from backing_services' recipe
    assert entry.DATA_ADDRESS.match(f"DOTCLOUD_X_{kind.tag}_HOST")  # the entrypoint waits for it
    assert registry.by_tag(kind.tag) is kind


@pytest.mark.parametrize(
    ("name", "tag", "url"),
    [("postgresql", "SQL", "pgsql://u:p@h:5432"), ("rabbitmq", "AMQP", "amqp://u:p@h:5672")],
)
def test_a_kind_names_its_variables_as_the_platform_did(name, tag, url):
    assert KINDS[name].tag == tag == DOTCLOUD_TAGS[name][0]
    variables = data_service_variables(
        Service(name="x", type=name), Endpoint("h", KINDS[name].port, "u", "p")
    )
    assert variables[f"DOTCLOUD_X_{tag}_URL"] == url


def test_a_kind_with_an_app_role_gives_its_image_the_role_to_make():
    postgresql = KINDS["postgresql"]
    assert postgresql.has_app_role and not KINDS["rabbitmq"].has_app_role
    assert postgresql.image_settings("root", "su", "apppw") == {
        "POSTGRES_USER": "root",
        "POSTGRES_PASSWORD": "su",
        "POSTGRES_APP_USER": APP_LOGIN,
        "POSTGRES_APP_DB": APP_DATABASE,
        "POSTGRES_APP_PASSWORD": "apppw",
    }
    assert KINDS["rabbitmq"].image_settings("root", "pw", "ignored") == {
        "RABBITMQ_DEFAULT_USER": "root",
        "RABBITMQ_DEFAULT_PASS": "pw",
    }


def test_by_file_the_passwords_are_read_from_files_and_compose_settings_join():
    settings = KINDS["postgresql"].image_settings_by_file("root", "/s/db.password", "/s/db.app")
    assert settings["POSTGRES_PASSWORD_FILE"] == "/s/db.password"
    assert settings["POSTGRES_APP_PASSWORD_FILE"] == "/s/db.app"
    assert settings["POSTGRES_DB"] == "postgres"
    assert not any(key in settings for key in ("POSTGRES_PASSWORD", "POSTGRES_APP_PASSWORD"))


def test_a_kind_is_not_ready_when_its_check_fails():
    def refused(status):
        raise ConnectionRefusedError(status["host"])

    kind = dataclasses.replace(KINDS["rabbitmq"], check=refused)
    assert not kind.ready({"host": "198.18.0.9"})
    assert dataclasses.replace(kind, check=lambda status: None).ready({})


def test_the_kubernetes_readiness_check_asks_the_kinds_own_port():
    assert KINDS["postgresql"].container.kube_check[-1] == str(DEFAULT_PORTS["postgresql"])


def test_an_image_that_takes_a_password_only_gets_no_login_variable():
    rabbitmq = KINDS["rabbitmq"]
    spec = dataclasses.replace(rabbitmq.container, login_variable=None)
    password_only = dataclasses.replace(rabbitmq, container=spec)
    assert password_only.image_settings("root", "pw") == {"RABBITMQ_DEFAULT_PASS": "pw"}
    assert password_only.image_settings_by_file("root", "/s/pw") == {
        "RABBITMQ_DEFAULT_PASS_FILE": "/s/pw"
    }
