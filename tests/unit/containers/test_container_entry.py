"""The code container's entrypoint: its environment, its home, its wait for data services."""

import errno
import io
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest

from platform_sim.appfile.environment import render_json
from platform_sim.containers import entry
from platform_sim.containers.log_relay import follow
from platform_sim.containers.probe import Address

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


AS_ROOT = pytest.mark.skipif(
    os.geteuid() != 0, reason="handing files over to another account needs root"
)
NOBODY = entry.Account("nobody", 65534, 65534)


def in_child(work) -> int:
    """Run ``work()`` in a forked child (root given up there stays there); its exit status:
    0 when it returned, 2 when it raised."""
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports by its exit status
        status = 2
        try:
            work()
            status = 0
        finally:
            os._exit(status)
    return os.waitpid(child, 0)[1] >> 8


@AS_ROOT
def test_started_as_root_only_output_and_data_are_handed_over_then_root_is_given_up(open_folder):
    home, outside, logs = open_folder / "home", open_folder / "outside", open_folder / "logs"
    (home / "data").mkdir(parents=True)
    outside.mkdir()
    logs.mkdir()  # a fresh tmpfs: root's
    (outside / "root-file").write_text("root's")
    (home / "data" / "admin-password").write_text("written by an older image, as root")
    (home / "data" / "link").symlink_to(outside / "root-file")
    (home / "platform").symlink_to(outside)  # left by the app at an earlier start
    (home / "environment.json").write_text("{}")
    (home / "environment.json").chmod(0o600)  # mounted root-only into the home
    found = []

    def work():
        entry.hand_over(home, NOBODY, (str(logs),))
        entry.become(NOBODY)
        assert (os.getuid(), os.geteuid(), os.getgroups()) == (65534, 65534, [])
        try:
            entry.load_environment(home, {}, mounted=open_folder / "no-secrets")
        except entry.EntryError as error:
            assert "mount it in /run/secrets/" in str(error)
            found.append(error)
        assert found

    assert in_child(work) == 0
    assert (home / "data").stat().st_uid == (home / "data" / "admin-password").stat().st_uid
    assert (home / "data" / "admin-password").stat().st_uid == 65534
    assert home.stat().st_uid == logs.stat().st_uid == 65534  # the folders themselves
    # no link followed: what the links point at is root's still
    assert (outside / "root-file").stat().st_uid == 0 and outside.stat().st_uid == 0


@AS_ROOT
def test_a_folder_swapped_for_a_link_mid_walk_changes_nothing_outside_the_volume(open_folder):
    home, outside = open_folder / "home", open_folder / "outside"
    (home / "data" / "uploads").mkdir(parents=True)
    (home / "data" / "uploads" / "photo").write_text("the app's")
    outside.mkdir()
    (outside / "shadow").write_text("root's")

    def swap() -> None:  # what another replica sharing the volume may do meanwhile
        if not (home / "data" / "moved").exists():
            (home / "data" / "uploads").rename(home / "data" / "moved")
            (home / "data" / "uploads").symlink_to(outside)

    def after_the_first_folder(walk):  # the worst moment for a walk by descriptors
        def walking(*args, **kwargs):
            for number, step in enumerate(walk(*args, **kwargs)):
                yield step
                if number == 0:
                    swap()
        return walking

    def checked_then_swapped(islink):  # the worst moment for a walk that checks, then opens
        def checking(path):
            found = islink(path)
            if str(path).endswith("uploads"):
                swap()
            return found
        return checking

    def work():  # the child's own copy of os: the parent's is untouched
        os.fwalk = after_the_first_folder(os.fwalk)
        os.path.islink = checked_then_swapped(os.path.islink)  # os.walk's check
        entry.hand_over(home, NOBODY, ())

    assert in_child(work) == 0
    assert (home / "data" / "moved").stat().st_uid == 65534
    assert (outside / "shadow").stat().st_uid == 0 and outside.stat().st_uid == 0


def test_a_link_in_place_of_the_environment_file_is_refused_unread(tmp_path):
    secret = tmp_path / "shadow"
    secret.write_text("root:x:0:0\nsecret-value-123: [oops\n")
    secret.chmod(0o600)
    home = tmp_path / "home"
    home.mkdir()
    (home / "environment.yml").symlink_to(secret)
    with pytest.raises(entry.EntryError, match="is a symbolic link") as caught:
        entry.load_environment(home, {}, mounted=tmp_path / "no-secrets")
    assert "secret-value" not in str(caught.value)


def test_a_fifo_in_place_of_the_environment_file_is_refused_without_waiting(tmp_path):
    os.mkfifo(tmp_path / "environment.json")
    with pytest.raises(entry.EntryError, match="is not a regular file"):
        entry.load_environment(tmp_path, {}, mounted=tmp_path / "no-secrets")


@pytest.mark.parametrize(
    ("name", "text"),
    [("environment.yml", "root:x:0:0\nsecret-value-123: [oops\n"),
     ("environment.json", '{"A": "secret-value-123" "B"}'),
     ("environment.yaml", "a: 'secret-value-123\n")],
)
def test_a_parse_error_names_the_place_never_the_text(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    with pytest.raises(entry.EntryError, match=r"is not valid: .*line \d+, column \d+") as caught:
        entry.load_environment(tmp_path, {}, mounted=tmp_path / "no-secrets")
    assert "secret-value" not in str(caught.value)


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


def test_a_data_volume_the_account_cannot_write_is_one_line_saying_how_to_fix_it(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(entry.os, "access", lambda path, mode: False)  # filled as root earlier
    with pytest.raises(entry.EntryError) as caught:
        entry.check_data_writable(tmp_path)
    text = str(caught.value)
    assert "\n" not in text and "is not writable by uid" in text
    assert "chown -R" in text and "podman volume inspect" in text
    monkeypatch.undo()
    entry.check_data_writable(tmp_path)  # the account's volume passes
    entry.check_data_writable(tmp_path / "absent")  # no volume: lay_out makes the folder


def test_a_mounted_secret_the_account_cannot_read_says_who_must_own_it(monkeypatch):
    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(entry.os, "open", denied)
    with pytest.raises(entry.EntryError, match=r"cannot be read by uid \d+: give the file to"):
        entry.read_file(entry.MOUNTED / "environment.json")
