"""The registry of data-service kinds: each kind described once, every part asking it."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from platform_sim.appfile import buildfile
from platform_sim.appfile.buildfile import SUPPORTED_TYPES, Service
from platform_sim.appfile.environment import Endpoint, data_service_variables
from platform_sim.containers import entry, images
from platform_sim.kinds import registry
from platform_sim.kinds.base import APP_DATABASE, APP_LOGIN, DOTCLOUD_TAGS, PLATFORM_LOGIN
from platform_sim.kinds.registry import KINDS

RECIPES = Path(__file__).resolve().parents[3] / "backing_services" / "images"
DEFAULT_PORTS = {"postgresql": 5432, "rabbitmq": 5672, "redis": 6379, "mysql": 3306}


def test_the_registry_holds_the_kinds_platform_sim_runs_by_their_type_names():
    assert {name: kind.port for name, kind in KINDS.items()} == DEFAULT_PORTS
    assert all(registry.kind(name).name == name for name in KINDS)
    with pytest.raises(KeyError):
        registry.kind("mongodb")


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
    [
        ("postgresql", "SQL", "pgsql://u:p@h:5432"),
        ("rabbitmq", "AMQP", "amqp://u:p@h:5672"),
        ("redis", "REDIS", "redis://u:p@h:6379"),
        ("mysql", "MYSQL", "mysql://u:p@h:3306"),
    ],
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


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_kind_answers_every_question(name):
    kind = KINDS[name]
    assert isinstance(kind.port, int) and kind.port_name and kind.server_command
    assert callable(kind.server) and callable(kind.check)
    assert kind.external.schemes and kind.external.refused_path
    assert kind.login and kind.tag == DOTCLOUD_TAGS[name][0]
    assert kind.container.compose_check and kind.container.kube_check
    assert kind.app_database in ("", APP_DATABASE)


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_kind_speaks_its_image_recipes_language(name):
    """The variables, volume and checks a kind names exist in backing_services' recipe."""
    kind, spec = KINDS[name], KINDS[name].container
    recipe = RECIPES / kind.image
    text = "\n".join(path.read_text() for path in sorted(recipe.iterdir()))
    role = spec.app_role
    names = [
        spec.password_variable,
        spec.login_variable,
        *(key for key, _ in (*spec.compose_settings, *spec.kube_settings)),
        *((role.login, role.password, role.database) if role else ()),
    ]
    for variable in filter(None, names):
        assert re.search(rf"\b{variable}\b", text), variable
    assert spec.data_path in text
    for program in (spec.compose_check[1], spec.kube_check[0]):
        if program.startswith("/usr/local/bin/"):
            assert (recipe / Path(program).name).is_file()


@pytest.mark.parametrize("name", ["redis", "mysql"])
def test_a_build_file_may_name_redis_and_mysql(name):
    parsed = buildfile.parse(f"www:\n  type: python\ncache:\n  type: {name}\n")
    buildfile.check_supported(parsed)
    assert [service.type for service in parsed.data_services()] == [name]


@pytest.mark.parametrize(
    ("name", "tag", "login", "url", "database"),
    [
        ("redis", "REDIS", "default", "redis://default:pw%2F%2B@198.19.0.5:41000", None),
        ("mysql", "MYSQL", APP_LOGIN, f"mysql://{APP_LOGIN}:pw%2F%2B@198.19.0.5:41000", "app"),
    ],
)
def test_the_platforms_variables_carry_the_kinds_own_login(name, tag, login, url, database):
    kind = KINDS[name]
    endpoint = Endpoint("198.19.0.5", 41000, kind.login, "pw/+", kind.database)
    expected = {"HOST": "198.19.0.5", "PORT": "41000", "LOGIN": login, "PASSWORD": "pw/+"}
    expected.update({"URL": url, **({"DATABASE": database} if database else {})})
    assert data_service_variables(Service(name="x", type=name), endpoint) == {
        f"DOTCLOUD_X_{tag}_{key}": value for key, value in expected.items()
    }


def test_redis_takes_a_password_only():
    kind = KINDS["redis"]
    assert kind.image_settings(kind.login, "pw") == {"REDIS_PASSWORD": "pw"}
    assert not kind.has_app_role and kind.app_database == ""


def test_mysql_gives_the_app_an_account_owning_one_database():
    kind = KINDS["mysql"]
    assert kind.login == APP_LOGIN != PLATFORM_LOGIN and kind.app_database == APP_DATABASE
    assert kind.image == "mariadb"  # backing_services' recipe: MariaDB from Debian's packages
    assert kind.image_settings_by_file(kind.login, "/s/sql.password") == {
        "MARIADB_USER": APP_LOGIN,
        "MARIADB_PASSWORD_FILE": "/s/sql.password",
        "MARIADB_DATABASE": APP_DATABASE,
    }


@pytest.mark.parametrize(("name", "program"), [("redis", "redis-server"), ("mysql", "mariadbd")])
def test_faults_aim_at_the_servers_own_process(name, program):
    assert KINDS[name].server_command == program


def test_the_servers_log_in_as_their_kinds_say_and_keep_their_data_where_asked(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("MINESTRONE_SERVICES", "local")
    redis = KINDS["redis"].server(tmp_path / "r", "root", "198.18.0.9")
    assert (redis.user, redis.host, redis.appendfsync) == ("default", "198.18.0.9", "always")
    mysql = KINDS["mysql"].server(tmp_path / "m", "root", "")
    assert (mysql.user, mysql.database) == (KINDS["mysql"].login, KINDS["mysql"].database)
    assert mysql.fsync and not mysql.test_databases  # an application's data, not a test's
    assert {redis.directory, mysql.directory} == {None}  # nothing made before start()
