"""The pytest plugin: fixtures error (never skip) without servers; logs shown when a run fails."""

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from backing_services import pytest_plugin
from backing_services.base import Service

REPO = Path(__file__).resolve().parents[2]


class FakeReporter:
    def __init__(self):
        self.lines = []

    def write_sep(self, sep, title):
        self.lines.append(f"{sep * 3} {title}")

    def write_line(self, line):
        self.lines.append(line)


class LoggedService(Service):
    kind = "postgres"

    @property
    def url(self):
        return "postgresql://x"

    def _start(self):
        pass

    def _stop(self):
        pass

    def _read_log(self, lines):
        return "LOG:  database system is ready to accept connections"


def config_with(*servers):
    config = SimpleNamespace(stash={})
    config.stash[pytest_plugin.SERVERS] = list(servers)
    return config


def test_a_failed_run_prints_the_servers_logs():
    reporter = FakeReporter()
    pytest_plugin.pytest_terminal_summary(reporter, 1, config_with(LoggedService()))
    assert reporter.lines[0].startswith("--- last lines of the postgres server's log")
    assert reporter.lines[1] == "LOG:  database system is ready to accept connections"


def test_a_passing_run_prints_nothing():
    reporter = FakeReporter()
    pytest_plugin.pytest_terminal_summary(reporter, 0, config_with(LoggedService()))
    assert reporter.lines == []


def test_unique_names_come_from_the_module():
    request = SimpleNamespace(module=SimpleNamespace(__name__="tests.integration.Test-Soup"))
    first, second = pytest_plugin.unique_name(request), pytest_plugin.unique_name(request)
    assert first.startswith("t_test_soup_")
    assert first != second
    assert len(first) <= 63


def test_without_servers_the_fixtures_error_with_the_hint(tmp_path):
    (tmp_path / "test_needs_servers.py").write_text(
        "def test_db(postgres_database_url):\n    pass\n\n"
        "def test_mq(rabbitmq_vhost_url):\n    pass\n\n"
        "def test_kv(redis_db_url):\n    pass\n\n"
        "def test_sql(mariadb_database_url):\n    pass\n"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("MINESTRONE_")}
    env.update(MINESTRONE_SERVICES="url", PYTHONPATH=str(REPO))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "backing_services.pytest_plugin",
            "-p",
            "no:django",
            "-p",
            "no:cacheprovider",
            "-rA",
            str(tmp_path),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "4 errors" in output
    assert "skipped" not in output
    assert "MINESTRONE_POSTGRES_URL is not set" in output
    assert "MINESTRONE_RABBITMQ_URL is not set" in output
    assert "MINESTRONE_REDIS_URL is not set" in output
    assert "MINESTRONE_MYSQL_URL is not set" in output
    assert "apt-get install postgresql rabbitmq-server" in output
