"""A real worker's `conf`, `stats` and `report` replies hold none of the deployment's secrets."""

import json
import os
import subprocess
import sys
from urllib.parse import unquote, urlsplit

import pytest

from minestrone.celery_app import app as celery_app

from .conftest import ROOT

HOSTNAME = "secrets@integration"


@pytest.fixture
def deployment_secrets(environment_file, broker_url):
    """The secret values the worker's environment file gives it, each long enough to search."""
    data = json.loads(environment_file.read_text())
    secrets = {
        "secret key": data["DJANGO_SECRET_KEY"],
        "database password": data["DOTCLOUD_DB_SQL_PASSWORD"],
        "broker password": unquote(urlsplit(broker_url).password or ""),
    }
    for what, value in secrets.items():
        assert len(value) >= 8, f"the test servers' {what} is too short to search for: {value!r}"
    return secrets


def assert_no_secret(reply_text: str, secrets: dict[str, str], command: str) -> None:
    """Fail naming the secret when the reply's text holds one."""
    for what, value in secrets.items():
        assert value not in reply_text, f"`{command}` reply shows the {what}"


def test_inspect_replies_hold_no_secret(start_worker, deployment_secrets):
    start_worker("secrets")
    inspect = celery_app.control.inspect(destination=[HOSTNAME], timeout=5)
    replies = {
        "conf": inspect.conf(with_defaults=False),
        "conf with defaults": inspect.conf(with_defaults=True),
        "stats": inspect.stats(),
        "report": inspect.report(),
    }
    for command, reply in replies.items():
        assert reply and HOSTNAME in reply, f"the worker did not answer `{command}`: {reply}"
        assert_no_secret(json.dumps(reply), deployment_secrets, command)
    conf = replies["conf"][HOSTNAME]
    assert conf["CELERY_BROKER_URL"].startswith("amqp://")
    assert "********" in conf["CELERY_BROKER_URL"]
    assert not any("PlatformSettings" in json.dumps(value) for value in conf.values())


def test_celery_command_line_shows_no_secret(start_worker, deployment_secrets, environment_file):
    start_worker("secrets")
    environ = {**os.environ, "MINESTRONE_ENV_FILE": str(environment_file)}
    environ.pop("DJANGO_SETTINGS_MODULE", None)
    for command in ("conf", "stats", "report"):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "minestrone",
                "inspect",
                command,
                "-d",
                HOSTNAME,
                "--timeout",
                "5",
            ],
            cwd=ROOT,
            env=environ,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        assert HOSTNAME in result.stdout
        assert_no_secret(result.stdout + result.stderr, deployment_secrets, f"inspect {command}")
