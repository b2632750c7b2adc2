import configparser
import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FAKE_PYTHON = """#!/bin/sh
echo "$*" >> "$HOME/python-calls"
case "$*" in *"${FAKE_PYTHON_FAILING:-no such call}"*) exit 4 ;; esac
exit "${FAKE_PYTHON_STATUS:-0}"
"""


def run_postinstall(
    tmp_path: Path, service: str, status: int = 0, environment=None, failing: str = ""
):
    home = tmp_path / "home"
    current = home / "current"
    current.mkdir(parents=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "python"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    if environment is None:
        environment = {
            "DOTCLOUD_PROJECT": "minestrone",
            "DOTCLOUD_SERVICE_NAME": service,
            "DOTCLOUD_SERVICE_ID": "0",
        }
    (home / "environment.json").write_text(json.dumps(environment, indent=4))
    result = subprocess.run(
        [str(ROOT / "postinstall")],
        cwd=current,
        env={
            "HOME": str(home),
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "FAKE_PYTHON_STATUS": str(status),
            **({"FAKE_PYTHON_FAILING": failing} if failing else {}),
        },
        capture_output=True,
        text=True,
        timeout=30,
    )
    calls_file = home / "python-calls"
    calls = calls_file.read_text().splitlines() if calls_file.exists() else []
    return result, calls, current / "supervisord.conf", home


def test_postinstall_is_executable():
    assert os.access(ROOT / "postinstall", os.X_OK)


def test_workers_get_the_tutorial_supervisor_programs(tmp_path):
    result, calls, conf, home = run_postinstall(tmp_path, "workers")
    assert result.returncode == 0, result.stderr
    assert calls == [
        "minestrone/manage.py migrate_safely --no-color",
        "minestrone/manage.py migrate_queues",
    ]
    parser = configparser.RawConfigParser()
    parser.read(conf)
    assert parser.sections() == ["program:djcelery", "program:celerycam"]
    djcelery, celerycam = parser["program:djcelery"], parser["program:celerycam"]
    assert djcelery["command"] == "python minestrone/manage.py celeryd -E -l info -c 2"
    assert celerycam["command"] == "python minestrone/manage.py celerycam"
    for program in (djcelery, celerycam):
        assert program["directory"] == f"{home}/current/"
        assert program["stdout_logfile"] == "/var/log/supervisor/%(program_name)s.log"
        # task logs (Celery writes them to stderr) land in the program's log, not an error log
        assert program["redirect_stderr"] == "true"
        assert "stderr_logfile" not in program
        assert program["autorestart"] == "true"
        assert program["killasgroup"] == "true"
    # warm shutdown: SIGTERM to the worker's main process only, so running jobs finish
    assert djcelery["stopasgroup"] == "false"
    assert int(djcelery["stopwaitsecs"]) >= 30


def test_workers_deploy_even_when_the_queues_cannot_be_migrated_now(tmp_path):
    result, calls, conf, _ = run_postinstall(tmp_path, "workers", failing="migrate_queues")
    assert result.returncode == 0 and conf.exists()
    assert "queues not migrated now; each worker start tries again" in result.stderr


def test_www_collects_static_and_makes_the_admin_but_runs_no_daemon(tmp_path):
    result, calls, conf, _ = run_postinstall(tmp_path, "www")
    assert result.returncode == 0, result.stderr
    # collectstatic runs beside the migration; the admin account needs the migrated database
    assert sorted(calls[:2]) == [
        "minestrone/manage.py collectstatic --noinput --clear --verbosity 0",
        "minestrone/manage.py migrate_safely --no-color",
    ]
    assert calls[2:] == ["mkadmin.py"]
    assert not conf.exists()


@pytest.mark.parametrize("failing", ["migrate_safely", "collectstatic"])
def test_www_fails_when_a_step_fails_and_makes_no_admin(tmp_path, failing):
    result, calls, _, _ = run_postinstall(tmp_path, "www", failing=failing)
    assert result.returncode == 4
    assert "mkadmin.py" not in calls


@pytest.mark.parametrize("service", ["db", "other"])
def test_other_services_only_migrate(tmp_path, service):
    result, calls, conf, _ = run_postinstall(tmp_path, service)
    assert result.returncode == 0
    assert calls == ["minestrone/manage.py migrate_safely --no-color"]
    assert not conf.exists()


def test_a_failing_step_fails_the_hook(tmp_path):
    result, calls, conf, _ = run_postinstall(tmp_path, "workers", status=3)
    assert result.returncode == 3
    assert len(calls) == 1
    assert not conf.exists()


def test_missing_service_name_fails_with_a_message(tmp_path):
    result, calls, _, _ = run_postinstall(tmp_path, "", environment={"DOTCLOUD_PROJECT": "x"})
    assert result.returncode == 1
    assert "DOTCLOUD_SERVICE_NAME is missing" in result.stderr
    assert calls == []
