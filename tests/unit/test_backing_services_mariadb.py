"""MariaDB without a server: option file, installer command, account statements, start failures."""

import socket
import time
from pathlib import Path

import pytest

from backing_services.errors import PortInUse, ServiceError, ServiceStartError
from backing_services.mariadb import LocalMariaDB
from backing_services.mariadb_config import (
    Layout,
    check_name,
    install_command,
    like_pattern,
    owner_statements,
    render_options,
    render_statement,
    server_command,
    socket_fits,
    sql_literal,
)
from tests.pace import quick

LAYOUT = Layout(Path("/srv/mdb"), Path("/srv/mdb"))


def options(text):
    return text.splitlines()


def test_everything_lives_in_the_directory_and_nothing_comes_from_etc():
    lines = options(render_options(LAYOUT, 3307))
    assert lines[0] == "[mysqld]"
    for line in (
        "datadir=/srv/mdb/data",
        "tmpdir=/srv/mdb/tmp",
        "socket=/srv/mdb/mariadbd.sock",
        "pid-file=/srv/mdb/mariadbd.pid",
        "port=3307",
        "bind-address=127.0.0.1",
        "skip-name-resolve",
        "character-set-server=utf8mb4",
        "collation-server=utf8mb4_unicode_ci",
    ):
        assert line in lines
    assert server_command(Path("/usr/sbin/mariadbd"), LAYOUT) == [
        "/usr/sbin/mariadbd",
        "--defaults-file=/srv/mdb/my.cnf",
    ]
    assert "/run/mysqld" not in render_options(LAYOUT, 3307)


@pytest.mark.parametrize(("fsync", "flush"), [(False, "2"), (True, "1")])
def test_commits_are_synced_only_when_asked(fsync, flush):
    text = render_options(LAYOUT, 3307, fsync=fsync)
    assert f"innodb_flush_log_at_trx_commit={flush}" in options(text)


def test_a_server_on_its_own_address():
    assert "bind-address=198.18.0.7" in options(render_options(LAYOUT, 3307, host="198.18.0.7"))


def test_paths_it_cannot_write_are_refused():
    with pytest.raises(ValueError, match="cannot use the path"):
        render_options(Layout(Path("/srv/my db"), Path("/srv")), 3307)


def test_root_gets_the_socket_only():
    command = install_command(Path("/usr/bin/mariadb-install-db"), LAYOUT, "alice")
    assert command == [
        "/usr/bin/mariadb-install-db",
        "--defaults-file=/srv/mdb/my.cnf",
        "--auth-root-authentication-method=socket",
        "--auth-root-socket-user=alice",
        "--skip-test-db",
    ]


def test_a_long_directory_cannot_hold_the_socket():
    assert socket_fits(Path("/tmp/minestrone-mariadb-abc"))
    assert not socket_fits(Path("/tmp/" + "x" * 100))


def test_the_app_account_owns_its_database_and_the_password_is_a_parameter():
    statements = owner_statements("app", "pa'ss%s", "minestrone")
    assert all("pa'ss" not in statement for statement, _ in statements)
    rendered = [render_statement(statement, parameters) for statement, parameters in statements]
    assert rendered == [
        "CREATE USER IF NOT EXISTS 'app'@'%' IDENTIFIED BY 'pa\\'ss%s'",
        "ALTER USER 'app'@'%' IDENTIFIED BY 'pa\\'ss%s'",
        "CREATE DATABASE IF NOT EXISTS `minestrone` "
        "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
        "GRANT ALL PRIVILEGES ON `minestrone`.* TO 'app'@'%'",
        "GRANT ALL PRIVILEGES ON `test\\_minestrone%`.* TO 'app'@'%'",
    ]


def test_a_server_holding_an_apps_data_grants_no_test_copies():
    statements = owner_statements("app", "pw", "minestrone", test_databases=False)
    assert not any("test" in statement for statement, _ in statements)


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("plain", "'plain'"),
        ("it's", "'it\\'s'"),
        ("back\\slash", "'back\\\\slash'"),
        ("a\x00b", "'a\\0b'"),
    ],
)
def test_sql_literals(value, literal):
    assert sql_literal(value) == literal


def test_like_patterns_escape_wildcards():
    assert like_pattern("test_a%b") == "test\\_a\\%b%"


@pytest.mark.parametrize("name", ["", " padded", "x" * 65, "nul\x00"])
def test_unusable_names_are_refused(name):
    with pytest.raises(ValueError, match="not a usable MariaDB database name"):
        check_name(name)


def fake_programs(tmp_path, server_body, install_body="mkdir -p data/mysql"):
    folder = tmp_path / "bin"
    folder.mkdir()
    server, installer = folder / "mariadbd", folder / "mariadb-install-db"
    server.write_text(f"#!/bin/sh\n{server_body}\n")
    installer.write_text(f"#!/bin/sh\n{install_body}\n")
    for path in (server, installer):
        path.chmod(0o755)
    return server, installer


def test_a_failed_install_reports_its_log(tmp_path):
    programs = fake_programs(
        tmp_path, "exit 1", "echo 'Installation of system tables failed'; exit 3"
    )
    server = LocalMariaDB(programs=programs, run_as=None)
    with pytest.raises(ServiceStartError, match="exit status 3") as caught:
        server.start()
    assert "Installation of system tables failed" in str(caught.value)
    assert server.directory is None


def test_a_server_that_dies_at_once_reports_its_log_quickly(tmp_path):
    programs = fake_programs(tmp_path, 'echo "[ERROR] Aborting ($1)"; exit 1')
    server = LocalMariaDB(tmp_path / "data", programs=programs, run_as=None, start_timeout=120)
    started = time.monotonic()
    with pytest.raises(ServiceStartError) as caught:
        server.start()
    assert time.monotonic() - started < quick(5, timeout=120)
    assert "MariaDB exited while starting" in str(caught.value)
    assert f"[ERROR] Aborting (--defaults-file={tmp_path / 'data' / 'my.cnf'})" in str(caught.value)


def test_a_kept_directory_keeps_the_credentials(tmp_path):
    programs = fake_programs(tmp_path, "exit 1")
    first = LocalMariaDB(tmp_path / "data", programs=programs, run_as=None)
    with pytest.raises(ServiceStartError):
        first.start()
    second = LocalMariaDB(tmp_path / "data", user="other", programs=programs, run_as=None)
    with pytest.raises(ServiceStartError):
        second.start()
    assert (second.user, second.password) == (first.user, first.password)


def test_data_without_credentials_is_refused(tmp_path):
    (tmp_path / "data" / "data" / "mysql").mkdir(parents=True)
    server = LocalMariaDB(
        tmp_path / "data", programs=fake_programs(tmp_path, "exit 1"), run_as=None
    )
    with pytest.raises(ServiceError, match="no credentials file"):
        server.start()


def test_a_taken_port_is_refused_before_anything_runs(tmp_path):
    programs = fake_programs(tmp_path, "exit 1")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        server = LocalMariaDB(tmp_path / "data", port=port, programs=programs, run_as=None)
        with pytest.raises(PortInUse, match=f"MariaDB: port {port}"):
            server.start()
    assert not (tmp_path / "data" / "data").exists()


def test_urls_are_the_app_accounts():
    server = LocalMariaDB()
    server.user, server.password, server.port = "app", "p@ss", 3307
    assert server.url == "mysql://app:p%40ss@127.0.0.1:3307/minestrone"
    assert server.database_url("t_x") == "mysql://app:p%40ss@127.0.0.1:3307/t_x"
