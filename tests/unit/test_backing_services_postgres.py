"""PostgreSQL without a server: command lines, the account that runs it, start failures."""

import os
import socket
import stat
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from backing_services.accounts import Account, can_traverse, check_traversable, unprivileged_account
from backing_services.errors import PortInUse, ServiceError, ServiceStartError
from backing_services.pg_commands import (
    initdb_command,
    server_env,
    server_options,
    start_command,
    stop_command,
)
from backing_services.postgres import LocalPostgres
from tests.pace import quick, within

BIN = Path("/opt/pg/bin")


def test_initdb_command_sets_a_password_superuser():
    command = initdb_command(BIN, BIN / "data", "root", BIN / "pwfile", fsync=True)
    assert command[:3] == ["/opt/pg/bin/initdb", "-D", "/opt/pg/bin/data"]
    assert command[3:5] == ["-U", "root"]
    assert command[5:7] == ["-A", "scram-sha-256"]
    assert "--pwfile=/opt/pg/bin/pwfile" in command
    assert "--no-sync" not in command
    assert initdb_command(BIN, BIN, "root", BIN, fsync=False)[-1] == "--no-sync"


@pytest.mark.parametrize(
    ("fsync", "expected"),
    [(False, "-c fsync=off"), (True, "-c fsync=on")],
)
def test_server_options(fsync, expected):
    options = server_options(5433, BIN.parent / "with space", fsync)
    assert options.startswith("-p 5433 -k '/opt/pg/with space' -c listen_addresses=127.0.0.1")
    assert options.endswith(expected)


def test_a_socket_directory_too_long_turns_unix_sockets_off():
    options = server_options(5433, BIN / ("x" * 120), fsync=False)
    assert "-k '' " in options


def test_pg_ctl_command_lines():
    start = start_command(BIN, BIN / "data", BIN / "log", "-p 1", timeout=65.5)
    assert start == [
        "/opt/pg/bin/pg_ctl",
        "-D",
        "/opt/pg/bin/data",
        "-l",
        "/opt/pg/bin/log",
        "-w",
        "-t",
        "65",
        "-o",
        "-p 1",
        "start",
    ]
    stop = stop_command(BIN, BIN / "data", timeout=30)
    assert stop == [
        "/opt/pg/bin/pg_ctl",
        "-D",
        "/opt/pg/bin/data",
        "-m",
        "fast",
        "-w",
        "-t",
        "30",
        "stop",
    ]


def test_server_env_drops_pg_variables():
    env = server_env({"PATH": "/bin", "PGPORT": "1", "PGDATA": "/x", "LANG": "C"})
    assert env == {"PATH": "/bin", "LANG": "C"}


def fake_stat(uid, gid, mode):
    return SimpleNamespace(st_uid=uid, st_gid=gid, st_mode=stat.S_IFDIR | mode)


POSTGRES = Account("postgres", 101, 104, (104, 103))


@pytest.mark.parametrize(
    ("owner", "group", "mode", "allowed"),
    [
        (0, 0, 0o755, True),
        (0, 0, 0o700, False),
        (0, 0, 0o701, True),
        (101, 0, 0o700, True),
        (101, 0, 0o600, False),
        (0, 104, 0o750, True),
        (0, 103, 0o710, True),
        (0, 104, 0o700, False),
    ],
)
def test_can_traverse(owner, group, mode, allowed):
    assert can_traverse(fake_stat(owner, group, mode), POSTGRES) is allowed


def test_check_traversable_names_the_blocking_parent(tmp_path):
    blocked = {"/root"}

    def stat_path(path):
        return fake_stat(0, 0, 0o700 if str(path) in blocked else 0o755)

    check_traversable(tmp_path / "pg", POSTGRES, stat_path)
    with pytest.raises(ServiceError) as caught:
        check_traversable(Path("/root/data/pg"), POSTGRES, stat_path)
    message = str(caught.value)
    assert "'postgres', which cannot enter /root " in message
    assert "drwx------" in message
    assert "/var/tmp" in message


def test_unprivileged_account_only_as_root():
    def lookup(name):
        if name == "postgres":
            raise KeyError(name)
        return Account(name, 65534, 65534)

    assert unprivileged_account(euid=1000, lookup=lookup) is None
    assert unprivileged_account(euid=0, lookup=lookup).name == "nobody"
    with pytest.raises(ServiceError, match="useradd"):
        unprivileged_account(("a", "b"), euid=0, lookup=lambda name: {}[name])


def fake_binaries(tmp_path, pg_ctl_body):
    """initdb that makes a cluster, pg_ctl that runs ``pg_ctl_body``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(parents=True)
    scripts = {
        "initdb": 'mkdir -p "$2"; echo 15 > "$2/PG_VERSION"; echo "initdb ok"',
        "pg_ctl": pg_ctl_body,
        "postgres": "exit 0",
    }
    for name, body in scripts.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    return bin_dir


def test_a_server_that_dies_at_once_reports_its_log_quickly(tmp_path):
    body = "echo 'FATAL:  invalid value for parameter \"shared_buffers\"'; exit 1"
    server = LocalPostgres(
        tmp_path / "data", bin_dir=fake_binaries(tmp_path, body), run_as=None, start_timeout=120
    )
    started = time.monotonic()
    with pytest.raises(ServiceStartError) as caught:
        server.start()
    assert time.monotonic() - started < quick(3, timeout=120)
    assert "PostgreSQL exited while starting" in str(caught.value)
    assert 'invalid value for parameter "shared_buffers"' in caught.value.log_tail
    assert "initdb ok" in caught.value.log_tail
    assert not server.running


def test_the_deadline_passes_and_the_start_is_abandoned(tmp_path):
    server = LocalPostgres(
        tmp_path / "data",
        bin_dir=fake_binaries(tmp_path, "sleep 30"),
        run_as=None,
        start_timeout=0.5,
    )
    started = time.monotonic()
    with pytest.raises(ServiceStartError, match=r"not ready after 0.5 s"):
        server.start()
    assert time.monotonic() - started < within(5)
    assert server._ctl is None


def test_a_taken_port_is_refused_before_anything_runs(tmp_path):
    bin_dir = fake_binaries(tmp_path, "exit 1")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        server = LocalPostgres(tmp_path / "data", port=port, bin_dir=bin_dir, run_as=None)
        with pytest.raises(PortInUse, match=str(port)):
            server.start()
    assert not (tmp_path / "data" / "pgdata").exists()


def test_a_temporary_directory_is_removed_and_credentials_are_private(tmp_path):
    server = LocalPostgres(bin_dir=fake_binaries(tmp_path, "exit 1"), run_as=None)
    with pytest.raises(ServiceStartError):
        server.start()
    assert server.directory is None
    kept = LocalPostgres(
        tmp_path / "kept", bin_dir=fake_binaries(tmp_path / "b", "exit 1"), run_as=None
    )
    with pytest.raises(ServiceStartError):
        kept.start()
    state_file = tmp_path / "kept" / "service.json"
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
    assert not (tmp_path / "kept" / "pwfile").exists()
    assert os.listdir(tmp_path / "kept")


def test_a_cluster_without_its_credentials_is_refused(tmp_path):
    (tmp_path / "data" / "pgdata").mkdir(parents=True)
    (tmp_path / "data" / "pgdata" / "PG_VERSION").write_text("15\n")
    server = LocalPostgres(
        tmp_path / "data", bin_dir=fake_binaries(tmp_path, "exit 1"), run_as=None
    )
    with pytest.raises(ServiceError, match="no credentials file"):
        server.start()


def test_urls_quote_the_credentials_and_the_database():
    server = LocalPostgres()
    server.user, server.password, server.port = "ro ot", "p@ss/w:rd", 5433
    assert server.url == "postgresql://ro%20ot:p%40ss%2Fw%3Ard@127.0.0.1:5433/postgres"
    assert server.database_url("my db").endswith("@127.0.0.1:5433/my%20db")


@pytest.mark.parametrize("name", ["", "x" * 64])
def test_unusable_database_names(name):
    with pytest.raises(ValueError, match="database name"):
        LocalPostgres().create_database(name)


def test_a_server_on_its_own_address_listens_there_and_lets_its_network_in(tmp_path):
    assert "listen_addresses=198.18.0.2" in server_options(5433, tmp_path, False, "198.18.0.2")
    server = LocalPostgres(tmp_path, host="198.18.0.2")
    assert server.host == "198.18.0.2"
    server.workdir.open()
    (tmp_path / "pgdata").mkdir()
    hba = tmp_path / "pgdata" / "pg_hba.conf"
    hba.write_text("host all all 127.0.0.1/32 scram-sha-256")
    server._allow_same_network()
    server._allow_same_network()  # once only, however often it starts
    assert hba.read_text().splitlines() == [
        "host all all 127.0.0.1/32 scram-sha-256",
        "host all all samenet scram-sha-256",
    ]


def test_a_server_never_started_is_not_alive(tmp_path):
    assert not LocalPostgres(tmp_path).alive()
