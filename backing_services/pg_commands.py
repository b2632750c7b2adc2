"""The command lines and environment of PostgreSQL's initdb and pg_ctl."""

import os
import shlex
from collections.abc import Mapping
from pathlib import Path

from .ports import LOOPBACK

SOCKET_PATH_MAX = 100  # a Unix socket path holds ~107 bytes, ".s.PGSQL.<port>" included


def initdb_command(bin_dir: Path, pgdata: Path, user: str, pwfile: Path, fsync: bool) -> list[str]:
    """``initdb``: a superuser ``user`` whose password is in ``pwfile``, checked by SCRAM."""
    auth = ["-U", user, "-A", "scram-sha-256", f"--pwfile={pwfile}"]
    command = [str(bin_dir / "initdb"), "-D", str(pgdata), *auth, "-E", "UTF8", "--locale=C"]
    return command if fsync else [*command, "--no-sync"]


def server_options(port: int, socket_dir: Path, fsync: bool, host: str = LOOPBACK) -> str:
    """The options pg_ctl hands to ``postgres`` (through a shell, hence quoted).

    Unix sockets go in ``socket_dir`` when its path is short enough, else they are off
    (clients use TCP on ``host``, loopback unless told, anyway).
    """
    sockets = str(socket_dir) if len(str(socket_dir)) < SOCKET_PATH_MAX else ""
    settings = [f"listen_addresses={host}", f"fsync={'on' if fsync else 'off'}"]
    options = ["-p", str(port), "-k", sockets]
    for setting in settings:
        options += ["-c", setting]
    return shlex.join(options)


def start_command(
    bin_dir: Path, pgdata: Path, log: Path, options: str, timeout: float
) -> list[str]:
    """``pg_ctl start`` that waits up to ``timeout``, so its exit status tells the outcome."""
    wait = ["-w", "-t", str(int(timeout))]
    return [
        str(bin_dir / "pg_ctl"),
        "-D",
        str(pgdata),
        "-l",
        str(log),
        *wait,
        "-o",
        options,
        "start",
    ]


def stop_command(bin_dir: Path, pgdata: Path, timeout: float) -> list[str]:
    """``pg_ctl stop`` in fast mode: disconnect clients, shut down cleanly, wait."""
    wait = ["-w", "-t", str(int(timeout))]
    return [str(bin_dir / "pg_ctl"), "-D", str(pgdata), "-m", "fast", *wait, "stop"]


def server_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for PostgreSQL's programs: the caller's, minus its PG* variables."""
    base = os.environ if base is None else base
    return {key: value for key, value in base.items() if not key.startswith("PG")}
