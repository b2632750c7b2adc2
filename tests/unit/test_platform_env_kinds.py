"""The database from a postgresql or a mysql service, the broker from CloudAMQP, a rabbitmq or a
redis service: the choice rule and each kind's settings."""

import json
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from minestrone import platform_env, platform_services

POSTGRESQL = {
    "DOTCLOUD_DB_SQL_LOGIN": "root",
    "DOTCLOUD_DB_SQL_PASSWORD": "s3cret",
    "DOTCLOUD_DB_SQL_HOST": "db.example",
    "DOTCLOUD_DB_SQL_PORT": "5433",
}
MYSQL = {
    "DOTCLOUD_DATA_MYSQL_LOGIN": "app",
    "DOTCLOUD_DATA_MYSQL_PASSWORD": "my pass",
    "DOTCLOUD_DATA_MYSQL_HOST": "10.0.0.7",
    "DOTCLOUD_DATA_MYSQL_PORT": "3307",
    "DOTCLOUD_DATA_MYSQL_URL": "mysql://app:my%20pass@10.0.0.7:3307",
}
RABBITMQ = {
    "DOTCLOUD_BROKER_AMQP_HOST": "127.0.0.1",
    "DOTCLOUD_BROKER_AMQP_PORT": "5674",
    "DOTCLOUD_BROKER_AMQP_LOGIN": "root",
    "DOTCLOUD_BROKER_AMQP_PASSWORD": "pw",
}
REDIS = {
    "DOTCLOUD_QUEUE_REDIS_HOST": "10.0.0.9",
    "DOTCLOUD_QUEUE_REDIS_PORT": "6380",
    "DOTCLOUD_QUEUE_REDIS_LOGIN": "redis",
    "DOTCLOUD_QUEUE_REDIS_PASSWORD": "p@ss/word:",
    "DOTCLOUD_QUEUE_REDIS_URL": "redis://redis:p%40ss%2Fword%3A@10.0.0.9:6380",
}
CLOUDAMQP = {
    "CLOUDAMQP_RABBITMQ_AMQP_HOST": "mq.example",
    "CLOUDAMQP_RABBITMQ_AMQP_PORT": "5673",
    "CLOUDAMQP_RABBITMQ_AMQP_LOGIN": "user",
    "CLOUDAMQP_RABBITMQ_AMQP_PASSWORD": "pw",
    "CLOUDAMQP_RABBITMQ_AMQP_VIRTUALHOST": "app",
}
MONGODB = {"DOTCLOUD_DOCS_MONGODB_HOST": "10.0.0.8", "DOTCLOUD_DOCS_MONGODB_PORT": "27017"}
SECRET = {"DJANGO_SECRET_KEY": "unit-tests-only-" + "abcdefghij" * 4}


def load(tmp_path: Path, data: dict, **environ):
    path = tmp_path / "environment.json"
    path.write_text(json.dumps(data | SECRET, indent=4))
    return platform_env.platform_settings(path, environ)


def refused(tmp_path: Path, data: dict, **environ) -> str:
    with pytest.raises(ImproperlyConfigured) as error:
        load(tmp_path, data, **environ)
    message = str(error.value)
    assert "\n" not in message
    return message


def test_a_mysql_service_is_the_database_on_mariadb_with_its_deadlines(tmp_path):
    database = load(tmp_path, MYSQL | RABBITMQ).database
    assert database["ENGINE"] == "django.db.backends.mysql"
    assert (database["HOST"], database["PORT"]) == ("10.0.0.7", 3307)
    assert (database["USER"], database["PASSWORD"], database["NAME"]) == (
        "app",
        "my pass",
        "minestrone",
    )
    options = database["OPTIONS"]
    assert options["charset"] == "utf8mb4"
    assert options["init_command"] == "SET SESSION max_statement_time = 10"
    assert options["read_timeout"] > 10  # the server's own deadline comes first


def test_without_a_statement_deadline_the_client_waits_as_long_as_it_takes():
    options = platform_env.mysql_options(0)
    assert options["init_command"].endswith("max_statement_time = 0")
    assert "read_timeout" not in options


def test_the_database_a_mysql_login_owns_is_the_apps(tmp_path):
    database = load(tmp_path, MYSQL | RABBITMQ | {"DOTCLOUD_DATA_MYSQL_DATABASE": "own"}).database
    assert database["NAME"] == "own"


def test_a_redis_service_is_the_broker_with_its_password_quoted(tmp_path):
    settings = load(tmp_path, POSTGRESQL | REDIS)
    assert settings.broker_url == "redis://:p%40ss%2Fword%3A@10.0.0.9:6380/0"
    assert "p%40ss" not in settings.describe()


def test_describe_names_mariadb(tmp_path):
    assert (
        "MariaDB database 'minestrone' on 10.0.0.7:3307" in load(tmp_path, MYSQL | REDIS).describe()
    )


def test_cloudamqp_wins_over_a_redis_service_unless_one_is_chosen(tmp_path):
    assert "mq.example" in load(tmp_path, POSTGRESQL | REDIS | CLOUDAMQP).broker_url
    chosen = load(tmp_path, POSTGRESQL | REDIS | CLOUDAMQP, MINESTRONE_BROKER_SERVICE="queue")
    assert chosen.broker_url.startswith("redis://")


def test_two_brokers_are_refused_until_one_is_chosen(tmp_path):
    message = refused(tmp_path, POSTGRESQL | REDIS | RABBITMQ)
    assert "2 services that could be the broker" in message
    assert "the rabbitmq service 'broker', the redis service 'queue'" in message
    assert "MINESTRONE_BROKER_SERVICE" in message
    chosen = load(tmp_path, POSTGRESQL | REDIS | RABBITMQ, MINESTRONE_BROKER_SERVICE="broker")
    assert chosen.broker_url.startswith("amqp://root:pw@127.0.0.1:5674/")


def test_two_databases_are_refused_until_one_is_chosen(tmp_path):
    message = refused(tmp_path, POSTGRESQL | MYSQL | REDIS)
    assert "2 services that could be the database" in message
    assert "MINESTRONE_DATABASE_SERVICE" in message
    chosen = load(tmp_path, POSTGRESQL | MYSQL | REDIS | {"MINESTRONE_DATABASE_SERVICE": "data"})
    assert chosen.database["ENGINE"] == "django.db.backends.mysql"


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (
            "docs",
            "the mongodb service 'docs', which cannot be the broker: a broker here is a "
            "rabbitmq or redis service",
        ),
        ("data", "the mysql service 'data', which cannot be the broker"),
        ("nothere", "MINESTRONE_BROKER_SERVICE='nothere', but no data service of that name"),
    ],
)
def test_a_chosen_broker_that_cannot_serve_celery_is_refused_by_name(tmp_path, choice, expected):
    message = refused(tmp_path, MYSQL | MONGODB | REDIS, MINESTRONE_BROKER_SERVICE=choice)
    assert expected in message


def test_a_redis_service_cannot_be_the_database(tmp_path):
    message = refused(tmp_path, MYSQL | REDIS, MINESTRONE_DATABASE_SERVICE="queue")
    assert "the redis service 'queue', which cannot be the database" in message


def test_a_mongodb_service_alone_is_no_broker_and_says_so(tmp_path):
    message = refused(tmp_path, POSTGRESQL | MONGODB)
    assert "no broker service (the mongodb service 'docs' cannot be one)" in message
    assert "`rabbitmq` or `redis`" in message


def test_no_database_at_all_says_which_kinds_would_do(tmp_path):
    message = refused(tmp_path, REDIS)
    assert "has no database: add a `postgresql` or `mysql` service" in message


@pytest.mark.parametrize(
    ("data", "missing"),
    [
        *(
            (POSTGRESQL | REDIS, f"DOTCLOUD_QUEUE_REDIS_{key}")
            for key in ("HOST", "PORT", "PASSWORD")
        ),
        *(
            (MYSQL | REDIS, f"DOTCLOUD_DATA_MYSQL_{key}")
            for key in ("HOST", "PORT", "LOGIN", "PASSWORD")
        ),
    ],
)
def test_a_missing_variable_of_the_new_kinds_is_named(tmp_path, data, missing):
    assert f"has no {missing}." in refused(
        tmp_path, {k: v for k, v in data.items() if k != missing}
    )


@pytest.mark.parametrize(
    ("keys", "found"),
    [
        (["DOTCLOUD_A_MYSQL_HOST"], [("A", "mysql")]),
        (["DOTCLOUD_A_MYSQL_SQL_HOST"], [("A_MYSQL", "postgresql")]),
        (["DOTCLOUD_MY_REDIS_REDIS_PORT", "DOTCLOUD_MY_REDIS_REDIS_URL"], [("MY_REDIS", "redis")]),
        (["DOTCLOUD_WWW_HTTP_HOST", "DOTCLOUD_WWW_SSH_HOST", "DOTCLOUD_A_SQL_DATABASE"], []),
    ],
)
def test_a_services_name_and_kind_come_from_its_variables(keys, found):
    services = platform_services.data_services(keys)
    assert [(service.name, service.kind) for service in services] == found


@pytest.mark.parametrize(
    ("url", "number"),
    [
        ("redis://redis:pw@10.0.0.9:6380", 0),
        ("redis://redis:pw@10.0.0.9:6380/", 0),
        ("redis://:pw@10.0.0.9:6380/3", 3),
    ],
)
def test_the_redis_database_number_comes_from_the_services_url(tmp_path, url, number):
    settings = load(tmp_path, POSTGRESQL | REDIS | {"DOTCLOUD_QUEUE_REDIS_URL": url})
    assert settings.broker_url.endswith(f":6380/{number}")


@pytest.mark.parametrize("url", ["redis://h:1/zero", "redis://[::1/2", "redis://h/123456"])
def test_a_redis_url_without_a_database_number_is_refused_in_one_line(tmp_path, url):
    message = refused(tmp_path, POSTGRESQL | REDIS | {"DOTCLOUD_QUEUE_REDIS_URL": url})
    assert "does not end with a Redis database number" in message
