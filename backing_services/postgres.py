"""PostgreSQL: what every provider offers (databases on demand) and a server from local binaries."""

import contextlib
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path

import psycopg2
from psycopg2 import errors as pg_errors
from psycopg2 import sql

from machine.files import write_text

from . import process
from .accounts import Account, check_traversable, hand_over, unprivileged_account
from .base import Service
from .binaries import postgres_bin_dir
from .errors import ServiceError, ServiceStartError
from .pg_commands import initdb_command, server_env, server_options, start_command, stop_command
from .ports import LOOPBACK, ensure_port_free, free_port, port_is_free
from .state import load_state, new_password, save_state
from .urls import postgres_url
from .workdir import WorkDir

MAINTENANCE_DB = "postgres"
SAME_NETWORK = "host all all samenet scram-sha-256"
CREATE_LOCK = 0x6D696E65  # advisory lock key serialising create_database() callers
# An application's role: it logs in and owns its database, nothing more (the image's
# entrypoint, backing_services/images/postgresql/entrypoint, grants the same).
OWNER_ATTRIBUTES = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"


class PostgresService(Service):
    """A PostgreSQL server, whoever provides it: URLs, readiness query, databases on demand."""

    kind = "postgres"
    database = MAINTENANCE_DB

    @property
    def url(self) -> str:
        """The URL of the maintenance database."""
        return self.database_url(self.database)

    def database_url(self, name: str) -> str:
        """The URL of database ``name`` on this server."""
        return postgres_url(self.user, self.password, self.host, self.port, name)

    def _connect(self, timeout: int = 10):  # noqa: ANN202 - psycopg2 has no public type
        conn = psycopg2.connect(self.url, connect_timeout=timeout)
        conn.autocommit = True
        return conn

    def check_ready(self) -> None:
        """Run ``SELECT 1``; raises until the server answers it."""
        check_ready(self.host, self.port, self.user, self.password, self.database)

    def create_database(self, name: str) -> str:
        """Create database ``name`` unless it exists (safe when callers race); return its URL."""
        _check_name(name)
        try:
            with contextlib.closing(self._connect()) as conn, conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_lock(%s)", (CREATE_LOCK,))
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                if cur.fetchone() is None:
                    with contextlib.suppress(
                        pg_errors.DuplicateDatabase, pg_errors.UniqueViolation
                    ):
                        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg2.Error as exc:
            raise ServiceError(f"cannot create database {name!r} on {self!r}: {exc}") from exc
        return self.database_url(name)

    def ensure_owner(self, login: str, password: str, database: str) -> str:
        """Role ``login`` (password ``password``) owning ``database``; return the database URL.

        Made by this service's superuser, again on every call (the password is set anew).
        """
        try:
            with contextlib.closing(self._connect()) as conn:
                ensure_owner(conn, login, password, database)
        except psycopg2.Error as exc:
            raise ServiceError(
                f"cannot give {login!r} the database {database!r} on {self!r}: "
                f"{str(exc).strip().splitlines()[0]}"
            ) from None
        return postgres_url(login, password, self.host, self.port, database)

    def drop_database(self, name: str) -> None:
        """Drop database ``name`` if it exists, disconnecting its users."""
        _check_name(name)
        statement = sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name))
        try:
            with contextlib.closing(self._connect()) as conn, conn.cursor() as cur:
                if conn.server_version >= 130000:
                    statement += sql.SQL(" WITH (FORCE)")
                cur.execute(statement)
        except psycopg2.Error as exc:
            raise ServiceError(f"cannot drop database {name!r} on {self!r}: {exc}") from exc


def check_ready(
    host: str, port: int, user: str, password: str, database: str = MAINTENANCE_DB,
    timeout: float = 2,
) -> None:
    """Log in to the server at ``host:port`` and run ``SELECT 1``; raises until it answers."""
    conn = psycopg2.connect(
        host=host, port=int(port), user=user, password=password, dbname=database,
        connect_timeout=timeout,
    )
    with contextlib.closing(conn), conn.cursor() as cur:
        cur.execute("SELECT 1")
        cur.fetchone()


def ensure_owner(connection, login: str, password: str, database: str) -> None:  # noqa: ANN001
    """As a superuser on ``connection`` (autocommit): the role, its password, its database.

    The role gets ``OWNER_ATTRIBUTES`` (no superuser, no role or database creation); the
    database, created when missing, is its own and no one else's to connect to.
    """
    _check_name(login)
    _check_name(database)
    role, name = sql.Identifier(login), sql.Identifier(database)
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(%s)", (CREATE_LOCK,))
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (login,))
        if cur.fetchone() is None:
            cur.execute(sql.SQL("CREATE ROLE {}").format(role))
        cur.execute(
            sql.SQL("ALTER ROLE {} WITH " + OWNER_ATTRIBUTES + " PASSWORD %s").format(role),
            (password,),
        )
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
        if cur.fetchone() is None:
            cur.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(name, role))
        cur.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(name, role))
        cur.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(name))
        cur.execute("SELECT pg_advisory_unlock(%s)", (CREATE_LOCK,))


def _check_name(name: str) -> None:
    if not name or len(name.encode()) > 63 or "\x00" in name:
        raise ValueError(f"not a usable PostgreSQL database name: {name!r}")


class LocalPostgres(PostgresService):
    """A PostgreSQL server run from the local binaries, in a directory we own.

    ``data_dir`` None: a temporary directory, removed by stop(). Given: kept, and reused with
    the same credentials (stored in its ``service.json``) when started again. As root, the
    programs run as the first existing account of ``run_as`` (None: as ourselves).
    ``fsync`` False (the default) suits throw-away test servers only: a crash or power loss
    may then lose committed data. A server whose data matters passes ``fsync=True``.
    """

    def __init__(
        self,
        data_dir: Path | str | None = None,
        *,
        port: int | None = None,
        user: str = "root",
        fsync: bool = False,
        start_timeout: float = 60.0,
        bin_dir: Path | None = None,
        run_as: Sequence[str] | None = ("postgres", "nobody"),
        host: str = LOOPBACK,
    ) -> None:
        super().__init__()
        self.host = host
        self.workdir = WorkDir(data_dir, prefix="minestrone-postgres-")
        self.requested_port = port
        self.user = user
        self.fsync = fsync
        self.start_timeout = start_timeout
        self.bin_dir = bin_dir
        self.run_as = run_as
        self.account: Account | None = None
        self.pid: int | None = None
        self._ctl: subprocess.Popen | None = None

    @property
    def directory(self) -> Path | None:
        """The server's directory (None before start and after a temporary one is removed)."""
        return self.workdir.path

    @property
    def pgdata(self) -> Path:
        """The cluster's data directory."""
        return self._inside("pgdata")

    @property
    def log_path(self) -> Path:
        """Where initdb, pg_ctl and the server write."""
        return self._inside("postgresql.log")

    def _inside(self, name: str) -> Path:
        if self.directory is None:
            raise ServiceError(f"{self!r} has no directory before start()")
        return self.directory / name

    def _read_log(self, lines: int) -> str:
        return process.log_tail(self.log_path, lines) if self.directory else ""

    def _run(self, command: list[str], timeout: float) -> int:
        child = process.spawn(
            command,
            log_path=self.log_path,
            env=server_env(),
            cwd=self.directory,
            account=self.account,
        )
        try:
            return child.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill_group(child.pid)
            child.wait()
            return -signal.SIGKILL

    def _start(self) -> None:
        self.bin_dir = self.bin_dir or postgres_bin_dir()
        self.account = unprivileged_account(self.run_as) if self.run_as else None
        directory = self.workdir.open()
        if self.account is not None:
            check_traversable(directory, self.account)
            hand_over(directory, self.account)
        state = self._credentials(directory)
        self.port = self._choose_port(state.get("port"))
        save_state(directory, {**state, "port": self.port})
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb(directory)
        if self.host != LOOPBACK:
            self._allow_same_network()
        self._launch()

    def _allow_same_network(self) -> None:
        """Clients on the server's own network (its address is not loopback) log in too."""
        hba = self.pgdata / "pg_hba.conf"
        text = hba.read_text()
        if SAME_NETWORK not in text.splitlines():
            with open(hba, "a") as handle:
                handle.write(("" if text.endswith("\n") else "\n") + SAME_NETWORK + "\n")

    def _credentials(self, directory: Path) -> dict:
        """The stored credentials, or new ones for a new cluster."""
        state = load_state(directory)
        if state is None and (self.pgdata / "PG_VERSION").exists():
            raise ServiceError(
                f"{self.pgdata} holds a cluster but {directory} has no credentials file "
                "(service.json): cannot log in; restore the file or remove the directory"
            )
        state = state or {"user": self.user, "password": new_password()}
        self.user, self.password = state["user"], state["password"]
        return state

    def _initdb(self, directory: Path) -> None:
        pwfile = directory / "pwfile"
        write_text(pwfile, self.password + "\n")
        try:
            hand_over(pwfile, self.account)
            self._own_log()
            command = initdb_command(self.bin_dir, self.pgdata, self.user, pwfile, self.fsync)
            code = self._run(command, self.start_timeout)
        finally:
            pwfile.unlink()
        if code != 0:
            raise ServiceStartError(f"initdb failed (exit status {code})", self.log_tail())

    def _choose_port(self, stored: int | None) -> int:
        if self.requested_port is not None:
            ensure_port_free(self.requested_port, "PostgreSQL", self.host)
            return self.requested_port
        if stored is not None and port_is_free(stored, self.host):
            return stored
        return free_port(self.host)

    def _own_log(self) -> None:
        self.log_path.touch()
        hand_over(self.log_path, self.account)

    def _launch(self) -> None:
        self._own_log()
        options = server_options(self.port, self.directory, self.fsync, self.host)
        command = start_command(
            self.bin_dir, self.pgdata, self.log_path, options, self.start_timeout + 5
        )
        self._ctl = process.spawn(
            command,
            log_path=self.log_path,
            env=server_env(),
            cwd=self.directory,
            account=self.account,
        )
        process.wait_until_ready(
            self.check_ready,
            alive=self._alive,
            timeout=self.start_timeout,
            what="PostgreSQL",
            tail=self.log_tail,
        )
        self.pid = self._postmaster_pid()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._ctl.wait(timeout=10)  # pg_ctl exits once it too sees the server up: reap it
            self._ctl = None

    def alive(self) -> bool:
        """Whether the postmaster started by start() still runs."""
        return self.running and self._postmaster_pid() is not None

    def _alive(self) -> bool:
        code = self._ctl.poll() if self._ctl else 1
        if code is None:
            return True
        return code == 0 and self._postmaster_pid() is not None

    def _postmaster_pid(self) -> int | None:
        """The running postmaster of OUR data directory, from its pid file (None if none)."""
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
            pid = int(lines[0])
        except (ServiceError, FileNotFoundError, IndexError, ValueError):
            return None
        if len(lines) < 2 or Path(lines[1]) != self.pgdata or not process.pid_alive(pid):
            return None
        return pid

    def _stop(self) -> None:
        if self._ctl is not None:
            process.stop_child(self._ctl, timeout=0, sig=signal.SIGKILL)
            self._ctl = None
        pid = self._postmaster_pid()
        if pid is not None:
            self._run(stop_command(self.bin_dir, self.pgdata, 30), timeout=35)
            if not process.wait_for(lambda: not process.pid_alive(pid), timeout=5):
                process.kill_group(pid)
                process.wait_for(lambda: not process.pid_alive(pid), timeout=5)

    def _cleanup(self) -> None:
        self.workdir.close()
