"""The code container's entrypoint: its environment, its home, its wait for data services."""

import io
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest

from platform_sim import container_entry as entry
from platform_sim.container_logs import follow
from platform_sim.container_probe import Address
from platform_sim.environment import render_json

DESCRIBED = {
    "app": "soup",
    "service": "www",
    "type": "python",
    "processes": {},
    "wsgi_processes": 2,
    "postinstall": None,
    "approot": ".",
    "web_port": 8080,
}


def test_the_containers_own_variables_are_not_the_applications():
    environ = {
        "PATH": "/bin",
        "HOSTNAME": "abc",
        "HOME": "/root",
        "PIP_NO_INPUT": "1",
        "LC_ALL": "C",
        "DOTCLOUD_SERVICE_NAME": "www",
        "DJANGO_SECRET_KEY": "k",
        "not a name": "x",
    }
    assert entry.application_variables(environ) == {
        "DOTCLOUD_SERVICE_NAME": "www",
        "DJANGO_SECRET_KEY": "k",
    }


def test_a_mounted_environment_json_wins_over_the_containers_environment(tmp_path):
    (tmp_path / "environment.json").write_text(render_json({"DOTCLOUD_SERVICE_NAME": "workers"}))
    loaded = entry.load_environment(tmp_path, {"DOTCLOUD_SERVICE_NAME": "www"})
    assert loaded == {"DOTCLOUD_SERVICE_NAME": "workers"}


def test_a_file_mounted_with_the_secrets_wins_over_one_in_the_home(tmp_path):
    home, mounted = tmp_path / "home", tmp_path / "secrets"
    home.mkdir()
    mounted.mkdir()
    (home / "environment.json").write_text(render_json({"DOTCLOUD_SERVICE_NAME": "old"}))
    (mounted / "environment.json").write_text(render_json({"DOTCLOUD_SERVICE_NAME": "new"}))
    assert entry.environment_file(home, mounted) == mounted / "environment.json"
    variables = entry.load_environment(home, {}, mounted)
    assert variables == {"DOTCLOUD_SERVICE_NAME": "new"}
    # read from the secrets, it is written afresh into the home for the app's account
    entry.lay_out(home, DESCRIBED, variables, log_dirs=(str(tmp_path / "log"),), replace=True)
    assert json.loads((home / "environment.json").read_text()) == variables
    assert (home / "environment.json").stat().st_mode & 0o777 == 0o600


def test_a_mounted_environment_yml_is_read_too(tmp_path):
    (tmp_path / "environment.yml").write_text("DOTCLOUD_SERVICE_ID: 3\n")
    assert entry.load_environment(tmp_path, {}) == {"DOTCLOUD_SERVICE_ID": "3"}


def test_a_malformed_environment_file_is_one_clear_error(tmp_path):
    (tmp_path / "environment.json").write_text("[1, 2")
    with pytest.raises(entry.EntryError, match="environment.json is not valid"):
        entry.load_environment(tmp_path, {})


def test_the_home_is_laid_out_as_platform_sim_lays_out_an_instance(tmp_path):
    home, logs = tmp_path / "home", tmp_path / "log"
    home.mkdir()
    variables = {"DOTCLOUD_SERVICE_NAME": "www", "DJANGO_SECRET_KEY": "k"}
    conf = entry.lay_out(home, DESCRIBED, variables, log_dirs=(str(logs),))
    assert json.loads((home / "environment.json").read_text()) == variables
    assert (home / "environment.json").read_text() == render_json(variables)
    assert (home / "environment.json").stat().st_mode & 0o777 == 0o600
    assert (home / "environment.yaml").resolve() == home / "environment.yml"
    text = Path(conf).read_text()
    assert "[program:gunicorn]" in text and "[program:nginx]" in text
    assert f"files = {home}/current/supervisord.conf" in text
    assert "stdout_logfile = /dev/stdout" in text  # the programs' logs reach `podman logs`
    nginx_conf = (home / "platform" / "nginx.conf").read_text()
    assert "listen 0.0.0.0:8080;" in nginx_conf
    assert not re.search(r"^user ", nginx_conf, re.M)  # it runs as the app's account already
    assert (home / "data").is_dir()
    # a second start (container restarted) keeps the files it wrote
    entry.lay_out(home, DESCRIBED, {"OTHER": "1"}, log_dirs=(str(logs),))
    assert json.loads((home / "environment.json").read_text()) == variables


@pytest.fixture
def open_folder():
    """A folder another account can reach (pytest's own are root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="entry-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


@pytest.mark.skipif(os.geteuid() != 0, reason="handing files over to another account needs root")
def test_started_as_root_only_output_and_data_are_handed_over_then_root_is_given_up(open_folder):
    home, outside = open_folder / "home", open_folder / "outside"
    (home / "data").mkdir(parents=True)
    outside.mkdir()
    (outside / "root-file").write_text("root's")
    (home / "data" / "admin-password").write_text("written by an older image, as root")
    (home / "data" / "link").symlink_to(outside / "root-file")
    (home / "platform").symlink_to(outside)  # left by the app at an earlier start
    (home / "environment.json").write_text("{}")
    (home / "environment.json").chmod(0o600)  # mounted root-only into the home
    account = entry.Account("nobody", 65534, 65534)
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports by its exit status
        status = 3
        try:
            entry.hand_over(home, account)
            entry.become(account)
            status = 1 if (os.getuid(), os.geteuid(), os.getgroups()) != (65534, 65534, []) else 4
            entry.check_readable(home / "environment.json")
        except entry.EntryError as error:
            status = 0 if status == 4 and "mount it in /run/secrets/" in str(error) else 2
        finally:
            os._exit(status)
    assert os.waitpid(child, 0)[1] == 0
    assert (home / "data").stat().st_uid == (home / "data" / "admin-password").stat().st_uid
    assert (home / "data" / "admin-password").stat().st_uid == 65534
    # no link followed: what the links point at is root's still
    assert (outside / "root-file").stat().st_uid == 0 and outside.stat().st_uid == 0


def test_without_root_there_is_nothing_to_hand_over(monkeypatch):
    monkeypatch.setattr(entry.os, "geteuid", lambda: 10001)
    assert entry.code_account() is None
    monkeypatch.setattr(entry.os, "geteuid", lambda: 0)
    with pytest.raises(entry.EntryError, match="the image has no no-such-user account"):
        entry.code_account("no-such-user")


def test_a_worker_gets_no_nginx(tmp_path):
    described = {**DESCRIBED, "type": "python-worker", "web_port": None}
    conf = entry.lay_out(tmp_path, described, {}, log_dirs=(str(tmp_path / "log"),))
    assert "[program:nginx]" not in Path(conf).read_text()
    assert not (tmp_path / "platform" / "nginx.conf").exists()


def test_the_data_services_to_wait_for_come_from_the_environment():
    environment = {
        "DOTCLOUD_DB_SQL_HOST": "db",
        "DOTCLOUD_DB_SQL_PORT": "5432",
        "DOTCLOUD_BROKER_AMQP_HOST": "broker",
        "DOTCLOUD_BROKER_AMQP_PORT": "5672",
        "DOTCLOUD_WWW_HTTP_HOST": "127.0.0.1:8080",
    }
    environment["DOTCLOUD_DB_SQL_LOGIN"] = "root"
    assert entry.data_addresses(environment) == {
        "db": Address("db", 5432, "SQL", "root"),
        "broker": Address("broker", 5672, "AMQP", ""),
    }


def test_a_data_service_that_never_answers_is_named(monkeypatch):
    monkeypatch.setattr(entry.time, "sleep", lambda seconds: None)
    now = iter(range(0, 1000, 10))

    def refuse(address):
        raise ConnectionRefusedError("refused")

    with pytest.raises(entry.EntryError, match=r"data service db \(db:5432\) was not ready"):
        entry.wait_for_data(
            {"db": Address("db", 5432, "SQL")}, timeout=30, ready=refuse, clock=lambda: next(now)
        )


def test_the_log_follower_prints_every_programs_lines_with_its_name(tmp_path):
    (tmp_path / "djcelery.log").write_text("Lazy job x completed\n")
    (tmp_path / "supervisord.log").write_text("already on the output\n")
    out = io.StringIO()
    follow([tmp_path], rounds=1, out=out)
    assert out.getvalue() == "[djcelery] Lazy job x completed\n"


def test_the_log_follower_prints_what_is_left_when_stopped(tmp_path):
    import threading

    (tmp_path / "djcelery.log").write_text("Lazy job y completed\n")
    stop = threading.Event()
    stop.set()
    out = io.StringIO()
    follow([tmp_path], out=out, stop=stop)  # returns: one last round, not forever
    assert out.getvalue() == "[djcelery] Lazy job y completed\n"


@pytest.mark.parametrize("name", ["environment.yml", "environment.yaml"])
@pytest.mark.parametrize("text", ["a: [unclosed\n", "a: b: c\n", "\tkey: 1\n"])
def test_a_malformed_mounted_yaml_environment_is_one_clear_error(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    with pytest.raises(entry.EntryError, match=f"{name} is not valid: .") as caught:
        entry.load_environment(tmp_path, {})
    assert "\n" not in str(caught.value)
