import json
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from minestrone import platform_env

DB = {
    "DOTCLOUD_DB_SQL_LOGIN": "root",
    "DOTCLOUD_DB_SQL_PASSWORD": "s3cret",
    "DOTCLOUD_DB_SQL_HOST": "db.example",
    "DOTCLOUD_DB_SQL_PORT": "5433",
}
CLOUDAMQP = {
    "CLOUDAMQP_RABBITMQ_AMQP_HOST": "mq.example",
    "CLOUDAMQP_RABBITMQ_AMQP_PORT": "5673",
    "CLOUDAMQP_RABBITMQ_AMQP_LOGIN": "user",
    "CLOUDAMQP_RABBITMQ_AMQP_PASSWORD": "p@ss/word",
    "CLOUDAMQP_RABBITMQ_AMQP_VIRTUALHOST": "app",
}
RABBITMQ_SERVICE = {
    "DOTCLOUD_BROKER_AMQP_HOST": "127.0.0.1",
    "DOTCLOUD_BROKER_AMQP_PORT": "5674",
    "DOTCLOUD_BROKER_AMQP_LOGIN": "root",
    "DOTCLOUD_BROKER_AMQP_PASSWORD": "pw",
}
STRONG_KEY = "unit-tests-only-" + "abcdefghij" * 4
SECRET = {"DJANGO_SECRET_KEY": STRONG_KEY}


def write(tmp_path: Path, data) -> Path:
    path = tmp_path / "environment.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=4))
    return path


def load(path: Path, **environ):
    return platform_env.platform_settings(path, environ)


def test_cloudamqp_and_db_keys_give_database_and_broker(tmp_path):
    settings = load(write(tmp_path, DB | CLOUDAMQP | SECRET))
    assert settings.database["ENGINE"] == "django.db.backends.postgresql"
    assert settings.database["NAME"] == "minestrone"
    assert (settings.database["USER"], settings.database["PASSWORD"]) == ("root", "s3cret")
    assert (settings.database["HOST"], settings.database["PORT"]) == ("db.example", 5433)
    assert settings.broker_url == "amqp://user:p%40ss%2Fword@mq.example:5673/app"
    assert settings.secret_key == STRONG_KEY
    assert settings.debug is False


def test_rabbitmq_service_keys_use_the_root_vhost(tmp_path):
    settings = load(write(tmp_path, DB | RABBITMQ_SERVICE | SECRET))
    assert settings.broker_url == "amqp://root:pw@127.0.0.1:5674/%2F"


def test_cloudamqp_wins_over_a_rabbitmq_service(tmp_path):
    settings = load(write(tmp_path, DB | RABBITMQ_SERVICE | CLOUDAMQP | SECRET))
    assert "mq.example" in settings.broker_url


def test_database_name_can_be_chosen(tmp_path):
    settings = load(write(tmp_path, DB | CLOUDAMQP | SECRET | {"DJANGO_DB_NAME": "other"}))
    assert settings.database["NAME"] == "other"


def test_the_database_the_platforms_login_owns_is_the_apps(tmp_path):
    owned = DB | CLOUDAMQP | SECRET | {"DOTCLOUD_DB_SQL_DATABASE": "app"}
    assert load(write(tmp_path, owned)).database["NAME"] == "app"
    chosen = load(write(tmp_path, owned | {"DJANGO_DB_NAME": "other"}))
    assert chosen.database["NAME"] == "other"


def test_process_environment_fills_keys_the_file_lacks(tmp_path):
    key = "from-env-" + "0123456789" * 5
    settings = load(write(tmp_path, DB | CLOUDAMQP), DJANGO_SECRET_KEY=key, DJANGO_DEBUG="1")
    assert settings.secret_key == key
    assert settings.debug is True


def test_http_hosts_of_web_services_are_allowed(tmp_path):
    data = DB | CLOUDAMQP | SECRET | {"DOTCLOUD_WWW_HTTP_HOST": "app-default-www-0.example:8080"}
    settings = load(write(tmp_path, data), DJANGO_ALLOWED_HOSTS="a.example, b.example")
    assert {"app-default-www-0.example", "a.example", "b.example", "localhost"} <= set(
        settings.allowed_hosts
    )


@pytest.mark.parametrize(
    "missing",
    [
        "DOTCLOUD_DB_SQL_LOGIN",
        "DOTCLOUD_DB_SQL_PASSWORD",
        "DOTCLOUD_DB_SQL_HOST",
        "DOTCLOUD_DB_SQL_PORT",
        "CLOUDAMQP_RABBITMQ_AMQP_PORT",
        "CLOUDAMQP_RABBITMQ_AMQP_LOGIN",
        "CLOUDAMQP_RABBITMQ_AMQP_PASSWORD",
        "CLOUDAMQP_RABBITMQ_AMQP_VIRTUALHOST",
        "DJANGO_SECRET_KEY",
    ],
)
def test_a_missing_key_is_named_with_the_file(tmp_path, missing):
    data = DB | CLOUDAMQP | SECRET
    del data[missing]
    path = write(tmp_path, data)
    with pytest.raises(ImproperlyConfigured) as error:
        load(path)
    assert missing in str(error.value)
    assert str(path) in str(error.value)


def test_a_very_long_key_is_cut_in_the_middle_of_the_message(tmp_path):
    service = "9" * 5000
    broker = {f"DOTCLOUD_{service}_AMQP_HOST": "127.0.0.1"}
    path = write(tmp_path, DB | SECRET | broker)
    with pytest.raises(ImproperlyConfigured) as error:
        load(path)
    message = str(error.value)
    assert len(message) < len(str(path)) + 200
    assert "has no DOTCLOUD_999" in message and "…" in message
    assert message.endswith("9_AMQP_PORT.")


def test_no_broker_at_all_says_how_to_add_one(tmp_path):
    path = write(tmp_path, DB | SECRET)
    with pytest.raises(ImproperlyConfigured, match="CLOUDAMQP_RABBITMQ_AMQP_HOST.*rabbitmq"):
        load(path)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"DOTCLOUD_DB_SQL_LOGIN": "root",', "not valid JSON: .* line 1"),
        ("", "not valid JSON"),
        ('["a", "b"]', "JSON object .* not a list"),
        ("\ufeff{}", "not valid JSON"),
    ],
)
def test_malformed_file_is_improperly_configured(tmp_path, content, expected):
    path = write(tmp_path, content)
    with pytest.raises(ImproperlyConfigured, match=expected) as error:
        load(path)
    assert str(path) in str(error.value)


def test_bad_port_is_named(tmp_path):
    path = write(tmp_path, DB | CLOUDAMQP | SECRET | {"DOTCLOUD_DB_SQL_PORT": "fivefour"})
    with pytest.raises(ImproperlyConfigured, match="DOTCLOUD_DB_SQL_PORT='fivefour'"):
        load(path)


def test_bad_debug_value_is_named(tmp_path):
    path = write(tmp_path, DB | CLOUDAMQP | SECRET | {"DJANGO_DEBUG": "maybe"})
    with pytest.raises(ImproperlyConfigured, match="DJANGO_DEBUG='maybe'"):
        load(path)


def test_missing_file_named_by_the_variable_is_improperly_configured(tmp_path):
    missing = tmp_path / "nope.json"
    with pytest.raises(ImproperlyConfigured, match="does not exist") as error:
        platform_env.load(tmp_path, {"MINESTRONE_ENV_FILE": str(missing)})
    assert str(missing) in str(error.value)


def test_file_that_is_not_utf8_is_improperly_configured(tmp_path):
    path = tmp_path / "environment.json"
    path.write_bytes(b'{"DOTCLOUD_DB_SQL_LOGIN": "\xff\xfe"}')
    with pytest.raises(ImproperlyConfigured, match="cannot be read") as error:
        load(path)
    assert str(path) in str(error.value)


def test_a_directory_instead_of_a_file_is_improperly_configured(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="cannot be read") as error:
        load(tmp_path)
    assert str(tmp_path) in str(error.value)


def test_home_environment_file_is_the_default(tmp_path):
    write(tmp_path, DB | CLOUDAMQP | SECRET)
    settings = platform_env.load(tmp_path / "base", {"HOME": str(tmp_path)})
    assert settings.development is False
    assert settings.source == f"environment file {tmp_path / 'environment.json'}"


def test_without_a_file_development_mode_says_what_it_uses(tmp_path):
    said = []
    settings = platform_env.load(tmp_path, {"HOME": str(tmp_path / "home")}, announce=said.append)
    assert settings.development is True
    assert settings.debug is True
    assert settings.database["NAME"] == str(tmp_path / "dev.sqlite3")
    assert said == [
        "minestrone: development mode (no environment file): database SQLite at "
        f"{tmp_path / 'dev.sqlite3'}, broker amqp://guest:***@127.0.0.1:5672//"
    ]


def test_empty_variable_asks_for_development_mode_even_with_a_home_file(tmp_path):
    write(tmp_path, DB | CLOUDAMQP | SECRET)
    settings = platform_env.load(
        tmp_path, {"HOME": str(tmp_path), "MINESTRONE_ENV_FILE": ""}, announce=lambda line: None
    )
    assert settings.development is True


def test_development_secret_key_is_generated_once_and_private(tmp_path):
    first = platform_env.development_secret_key(tmp_path)
    assert len(first) >= 50
    assert platform_env.development_secret_key(tmp_path) == first
    assert (tmp_path / ".dev-secret-key").stat().st_mode & 0o777 == 0o600


def test_describe_hides_the_broker_password(tmp_path):
    settings = load(write(tmp_path, DB | CLOUDAMQP | SECRET))
    description = settings.describe()
    assert "p%40ss" not in description
    assert "PostgreSQL database 'minestrone' on db.example:5433" in description


@pytest.mark.parametrize(("value", "expected"), [(None, 5.0), ("0.25", 0.25), ("0", 0.0)])
def test_lazy_job_seconds_can_be_shortened(tmp_path, value, expected):
    extra = {} if value is None else {"SOUP_LAZY_JOB_SECONDS": value}
    assert load(write(tmp_path, DB | CLOUDAMQP | SECRET | extra)).lazy_job_seconds == expected


@pytest.mark.parametrize("value", ["soon", "-1", "nan", "inf"])
def test_bad_lazy_job_seconds_are_named(tmp_path, value):
    path = write(tmp_path, DB | CLOUDAMQP | SECRET | {"SOUP_LAZY_JOB_SECONDS": value})
    with pytest.raises(ImproperlyConfigured, match="SOUP_LAZY_JOB_SECONDS"):
        load(path)


def test_the_management_api_url_is_read_from_the_file_or_the_environment(tmp_path):
    assert load(write(tmp_path, DB | CLOUDAMQP | SECRET)).broker_api_url is None
    url = {"MONITOR_BROKER_API_URL": "http://mq.example:15672"}
    assert (
        load(write(tmp_path, DB | CLOUDAMQP | SECRET | url)).broker_api_url
        == url["MONITOR_BROKER_API_URL"]
    )
    path = write(tmp_path, DB | CLOUDAMQP | SECRET)
    assert load(path, **url).broker_api_url == "http://mq.example:15672"


def test_a_management_api_url_with_a_login_is_refused_without_showing_it(tmp_path):
    url = {"MONITOR_BROKER_API_URL": "http://admin:hunter2@mq.example:15672"}
    with pytest.raises(ImproperlyConfigured, match="MONITOR_BROKER_API_URL") as raised:
        load(write(tmp_path, DB | CLOUDAMQP | SECRET | url))
    assert "hunter2" not in str(raised.value)


@pytest.mark.parametrize(
    ("value", "expected"), [(None, 2), ("1", 1), (" 2 ", 2), (3, 3), ("0", 0), ("", 2)]
)
def test_trusted_proxies_are_set_per_deployment(tmp_path, value, expected):
    extra = {} if value is None else {"TRUSTED_PROXIES": value}
    assert load(write(tmp_path, DB | CLOUDAMQP | SECRET | extra)).trusted_proxies == expected


@pytest.mark.parametrize("value", ["two", "-1", "10", "1.5", "²"])
def test_bad_trusted_proxies_are_named(tmp_path, value):
    path = write(tmp_path, DB | CLOUDAMQP | SECRET | {"TRUSTED_PROXIES": value})
    with pytest.raises(ImproperlyConfigured, match=r"^TRUSTED_PROXIES=.* is not a number of prox"):
        load(path)


def test_development_trusts_no_proxy_unless_told(tmp_path):
    assert platform_env.development_settings(tmp_path, {}).trusted_proxies == 0
    told = platform_env.development_settings(tmp_path, {"TRUSTED_PROXIES": "1"})
    assert told.trusted_proxies == 1


@pytest.mark.parametrize(
    ("key", "json_value"),
    [
        ("DOTCLOUD_DB_SQL_PASSWORD", '"hunter2-\\ud800-hunter2"'),  # a lone surrogate
        ("DJANGO_SECRET_KEY", "1234.5678"),
        ("DOTCLOUD_DB_SQL_PASSWORD", '["hunter2"]'),
        ("CLOUDAMQP_RABBITMQ_AMQP_PASSWORD", '"hunter2\\u0000"'),
        ("MONITOR_METRICS_TOKEN", '{"t": "hunter2"}'),
    ],
)
def test_a_secrets_value_is_never_printed_in_an_error(tmp_path, key, json_value):
    data = DB | CLOUDAMQP | SECRET
    text = json.dumps({k: v for k, v in data.items() if k != key})
    path = write(tmp_path, text[:-1] + f', "{key}": {json_value}}}')
    with pytest.raises(ImproperlyConfigured) as error:
        lookup = platform_env._Lookup(path, platform_env.read_environment_file(path), {})
        lookup.get(key)
    message = str(error.value)
    assert f"{key} (value hidden: " in message
    assert "hunter2" not in message and "12345" not in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "30/m"), ("", "30/m"), ("5/m", "5/m"), (" 200/h ", "200/h"), ("0", "0")],
)
def test_the_anonymous_job_rate_is_set_per_deployment(tmp_path, value, expected):
    extra = {} if value is None else {"SOUP_ANONYMOUS_JOB_RATE": value}
    assert load(write(tmp_path, DB | CLOUDAMQP | SECRET | extra)).anonymous_job_rate == expected


@pytest.mark.parametrize("value", ["fast", "5/day", "-1/m", "²/m"])
def test_a_bad_anonymous_job_rate_is_named(tmp_path, value):
    path = write(tmp_path, DB | CLOUDAMQP | SECRET | {"SOUP_ANONYMOUS_JOB_RATE": value})
    with pytest.raises(ImproperlyConfigured, match=r"^SOUP_ANONYMOUS_JOB_RATE=.* is not a rate"):
        load(path)


@pytest.mark.parametrize("choice", [None, "\x01"])
def test_a_choice_among_many_long_service_names_is_one_short_line(choice):
    from minestrone import platform_services

    services = [platform_services.Service(f"{n}{'9' * 3000}", "MYSQL") for n in range(9)]
    with pytest.raises(ImproperlyConfigured) as refused:
        platform_services.chosen(
            "The file", services, choice, "database", ("mysql",), "MINESTRONE_DATABASE_SERVICE"
        )
    message = str(refused.value)
    assert "\n" not in message and len(message) < 1000, message
    assert "and 4 more" in message


CLUSTER_URLS = {
    "DOTCLOUD_BROKER_AMQP_URLS": "amqp://root:pw@198.18.0.2:5674;amqp://root:pw@198.18.0.3:5675"
    ";amqp://root:pw@198.18.0.4:5676",
}


def test_a_clusters_every_node_is_in_the_broker_url_node_0_first(tmp_path):
    settings = load(write(tmp_path, DB | RABBITMQ_SERVICE | CLUSTER_URLS | SECRET))
    assert settings.broker_url.split(";") == [
        "amqp://root:pw@198.18.0.2:5674/%2F",
        "amqp://root:pw@198.18.0.3:5675/%2F",
        "amqp://root:pw@198.18.0.4:5676/%2F",
    ]
    assert "pw" not in settings.describe()


@pytest.mark.parametrize("value", ["", "amqp://root:pw@a:1;", "http://a:1", "amqp://a", "a;b"])
def test_a_bad_list_of_cluster_urls_is_one_line_naming_the_key(tmp_path, value):
    data = DB | RABBITMQ_SERVICE | SECRET | {"DOTCLOUD_BROKER_AMQP_URLS": value}
    with pytest.raises(ImproperlyConfigured) as caught:
        load(write(tmp_path, data))
    message = str(caught.value)
    assert "DOTCLOUD_BROKER_AMQP_URLS" in message
    assert "\n" not in message
