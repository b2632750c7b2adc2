"""Hostile environment files: settings, or one ImproperlyConfigured line; never a traceback."""

import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from minestrone import platform_env
from minestrone.startup import CONFIGURATION_ERROR, configuration_errors_exit

ROOT = Path(__file__).parents[2]
FUZZ = settings(
    max_examples=1000,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
STRONG_KEY = "fuzz-tests-only-" + "abcdefghij" * 4
VALID = {
    "DOTCLOUD_DB_SQL_LOGIN": "root",
    "DOTCLOUD_DB_SQL_PASSWORD": "pw",
    "DOTCLOUD_DB_SQL_HOST": "127.0.0.1",
    "DOTCLOUD_DB_SQL_PORT": "5432",
    "DOTCLOUD_BROKER_AMQP_HOST": "127.0.0.1",
    "DOTCLOUD_BROKER_AMQP_PORT": "5672",
    "DOTCLOUD_BROKER_AMQP_LOGIN": "root",
    "DOTCLOUD_BROKER_AMQP_PASSWORD": "pw",
    "DOTCLOUD_WWW_HTTP_HOST": "127.0.0.1:8080",
    "DJANGO_SECRET_KEY": STRONG_KEY,
}
# The other pair of kinds: MariaDB and Redis (see test_platform_env_kinds.py).
VALID_KINDS = {
    "DOTCLOUD_DATA_MYSQL_LOGIN": "app",
    "DOTCLOUD_DATA_MYSQL_PASSWORD": "pw",
    "DOTCLOUD_DATA_MYSQL_HOST": "127.0.0.1",
    "DOTCLOUD_DATA_MYSQL_PORT": "3306",
    "DOTCLOUD_QUEUE_REDIS_LOGIN": "redis",
    "DOTCLOUD_QUEUE_REDIS_PASSWORD": "pw",
    "DOTCLOUD_QUEUE_REDIS_HOST": "127.0.0.1",
    "DOTCLOUD_QUEUE_REDIS_PORT": "6379",
    "DOTCLOUD_WWW_HTTP_HOST": "127.0.0.1:8080",
    "DJANGO_SECRET_KEY": STRONG_KEY,
}
KEYS = [
    *VALID,
    *VALID_KINDS,
    "DOTCLOUD_QUEUE_REDIS_URL",
    "DOTCLOUD_DATA_MYSQL_DATABASE",
    "DOTCLOUD_DOCS_MONGODB_HOST",
    "MINESTRONE_BROKER_SERVICE",
    "MINESTRONE_DATABASE_SERVICE",
    "CLOUDAMQP_RABBITMQ_AMQP_HOST",
    "CLOUDAMQP_RABBITMQ_AMQP_PORT",
    "CLOUDAMQP_RABBITMQ_AMQP_LOGIN",
    "CLOUDAMQP_RABBITMQ_AMQP_PASSWORD",
    "CLOUDAMQP_RABBITMQ_AMQP_VIRTUALHOST",
    "DJANGO_DB_NAME",
    "DJANGO_DEBUG",
    "DJANGO_ALLOWED_HOSTS",
    "SOUP_LAZY_JOB_SECONDS",
]


def check(path, environ=None):
    """Settings, or ImproperlyConfigured reported on one line with status 4: nothing else."""
    err = io.StringIO()
    try:
        with configuration_errors_exit("manage.py", err):
            return platform_env.platform_settings(path, environ or {})
    except SystemExit as exc:
        assert exc.code == CONFIGURATION_ERROR
        (line,) = err.getvalue().splitlines()
        assert line.startswith("manage.py: configuration error: ")
        assert len(line) < 1000
        return None


def write(folder, text):
    path = Path(folder) / "environment.json"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return path


# --- the cases of the issue --------------------------------------------------------------------

REGRESSIONS = [
    ('{"DOTCLOUD_DB_SQL_PORT": ' + "9" * 5000 + "}", "Exceeds the limit (4300 digits)"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    (json.dumps(VALID | {"DOTCLOUD_BROKER_AMQP_LOGIN": "\ud800"}), "not valid Unicode"),
    (json.dumps(VALID | {"DOTCLOUD_BROKER_AMQP_PASSWORD": "\ud800"}), "not valid Unicode"),
    (json.dumps(VALID | {"DOTCLOUD_DB_SQL_HOST": [1, 2]}), "DOTCLOUD_DB_SQL_HOST=[1, 2], a list"),
    (json.dumps(VALID | {"DOTCLOUD_DB_SQL_LOGIN": {"a": 1}}), "an object"),
    (json.dumps(VALID | {"DOTCLOUD_DB_SQL_PASSWORD": True}), "a boolean"),
    (json.dumps(VALID | {"DOTCLOUD_DB_SQL_PORT": 5432.5}), "a number"),
    (json.dumps(VALID | {"DOTCLOUD_DB_SQL_PORT": "70000"}), "not a port number"),
    (json.dumps(VALID | {"DOTCLOUD_DB_SQL_PORT": "５４３２"}), "not a port number"),
    (json.dumps(VALID | {"DOTCLOUD_DB_SQL_PORT": "-1"}), "not a port number"),
    (json.dumps(VALID | {"DJANGO_SECRET_KEY": "nan"}), "DJANGO_SECRET_KEY is too weak"),
    (json.dumps(VALID | {"DJANGO_SECRET_KEY": "x" * 60}), "DJANGO_SECRET_KEY is too weak"),
    (
        json.dumps(VALID | {"DJANGO_SECRET_KEY": "django-insecure-" + "abcdefghij" * 5}),
        "DJANGO_SECRET_KEY is too weak",
    ),
    (json.dumps(VALID | {"DJANGO_ALLOWED_HOSTS": "a\nb\x00"}), "holds a NUL"),
    (json.dumps(VALID_KINDS | {"DOTCLOUD_QUEUE_REDIS_PORT": "0"}), "not a port number"),
    (json.dumps(VALID_KINDS | {"DOTCLOUD_QUEUE_REDIS_HOST": ["a"]}), "a list"),
    (json.dumps(VALID_KINDS | {"DOTCLOUD_QUEUE_REDIS_PASSWORD": "\ud800"}), "not valid Unicode"),
    (json.dumps(VALID_KINDS | {"DOTCLOUD_DATA_MYSQL_PORT": "３３０６"}), "not a port number"),
    (json.dumps(VALID_KINDS | {"DOTCLOUD_DATA_MYSQL_LOGIN": None}), "DATA_MYSQL_LOGIN"),
    (json.dumps(VALID | VALID_KINDS), "2 services that could be the database"),
    (json.dumps(VALID_KINDS | {"MINESTRONE_BROKER_SERVICE": "x" * 5000}), "no data service"),
    (json.dumps(VALID_KINDS | {"MINESTRONE_BROKER_SERVICE": {"a": 1}}), "an object"),
    (json.dumps(VALID_KINDS | {"MINESTRONE_DATABASE_SERVICE": "queue"}), "cannot be the"),
]


@pytest.mark.parametrize(("text", "message"), REGRESSIONS)
def test_issue_cases_are_one_clear_line(tmp_path, text, message):
    err = io.StringIO()
    with pytest.raises(SystemExit) as caught, configuration_errors_exit("manage.py", err):
        platform_env.platform_settings(write(tmp_path, text), {})
    assert caught.value.code == CONFIGURATION_ERROR
    (line,) = err.getvalue().splitlines()
    assert message in line
    assert str(tmp_path) in line or "DJANGO_SECRET_KEY" in line


def test_whole_numbers_are_taken_as_text_and_null_as_absent(tmp_path):
    data = VALID | {"DOTCLOUD_DB_SQL_PORT": 5433, "DJANGO_DEBUG": None}
    settings_ = platform_env.platform_settings(write(tmp_path, json.dumps(data)), {})
    assert settings_.database["PORT"] == 5433
    assert settings_.debug is False


def test_a_surrogate_from_the_process_environment_is_named(tmp_path):
    data = {key: value for key, value in VALID.items() if key != "DJANGO_SECRET_KEY"}
    with pytest.raises(ImproperlyConfigured, match="The process environment has DJANGO_SECRET"):
        platform_env.platform_settings(
            write(tmp_path, json.dumps(data)), {"DJANGO_SECRET_KEY": "a\udcff" * 30}
        )


@pytest.mark.parametrize(
    ("entry", "text"),
    [
        ("minestrone/manage.py", '{"DOTCLOUD_DB_SQL_PORT": ' + "9" * 5000 + "}"),
        ("wsgi.py", json.dumps(VALID | {"DJANGO_SECRET_KEY": "nan"})),
    ],
)
def test_entry_points_print_one_line_and_exit_4(tmp_path, entry, text):
    path = write(tmp_path, text)
    command = [sys.executable, entry, "check"]
    if entry == "wsgi.py":
        command = [sys.executable, "-c", "import wsgi"]
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        command,
        cwd=ROOT,
        env={**env, "MINESTRONE_ENV_FILE": str(path), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == CONFIGURATION_ERROR
    (line,) = result.stderr.splitlines()
    assert "configuration error: " in line and str(path) in line or "too weak" in line
    assert "Traceback" not in result.stderr


# --- generated and mutated files ---------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["", "0", "5432", "65536", "nan", "inf", "1e999", "\ud800", "a\x00b"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)


@st.composite
def documents(draw):
    """A valid environment with some keys given values of every JSON kind, or removed."""
    data = dict(draw(st.sampled_from([VALID, VALID_KINDS, VALID | VALID_KINDS])))
    for key in draw(st.lists(st.sampled_from(KEYS) | st.text(max_size=8), max_size=4)):
        if draw(st.booleans()):
            data.pop(key, None)
        else:
            data[key] = draw(JSON_VALUES)
    return json.dumps(data, indent=draw(st.sampled_from([None, 4])), ensure_ascii=False)


HOSTILE = ["[", "{", "]", "}", ",", ":", '"', "\\", "\\u", "\\ud800", "9" * 5000, "[" * 3000,
           "NaN", "Infinity", "-", "1e99999", "\x00", "\ufeff", "true", "null", "é"]


@st.composite
def mutated(draw):
    """The valid file with fragments inserted or characters deleted."""
    text = json.dumps(draw(st.sampled_from([VALID, VALID_KINDS])), indent=4)
    for _ in range(draw(st.integers(1, 3))):
        position = draw(st.integers(0, len(text)))
        if draw(st.booleans()):
            fragment = draw(st.sampled_from(HOSTILE) | st.text(max_size=6))
            text = text[:position] + fragment + text[position:]
        else:
            text = text[:position] + text[position + draw(st.integers(1, 10)) :]
    return text


ENVIRON = st.dictionaries(
    st.sampled_from(KEYS),
    st.binary(max_size=8).map(lambda b: os.fsdecode(b.replace(b"\x00", b""))),
    max_size=3,
)


@FUZZ
@given(st.one_of(documents(), mutated()), ENVIRON)
def test_any_environment_file_gives_settings_or_one_line(text, environ):
    with tempfile.TemporaryDirectory(prefix="envfuzz-") as folder:
        event("accepted" if check(write(folder, text), environ) else "refused")
