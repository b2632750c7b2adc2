"""MariaDB: what every provider offers (databases on demand) and a server from local binaries."""

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import MySQLdb

from . import process
from .accounts import Account, check_traversable, hand_over, unprivileged_account
from .base import Service
from .binaries import mariadb_programs
from .errors import ServiceError, ServiceStartError
from .mariadb_config import (
    Layout,
    create_database_statement,
    grant_statement,
    install_command,
    owner_statements,
    quote_name,
    render_options,
    server_command,
    socket_fits,
)
from .ports import LOOPBACK, ensure_port_free, free_port, port_is_free
from .state import load_state, new_password, save_state
from .urls import mysql_url
from .workdir import WorkDir

APP_DATABASE = "minestrone"
Statements = Sequence[tuple[str, tuple]]


class MariaDBService(Service):
    """A MariaDB server, whoever provides it: an application account, its database, and more
    databases on demand for that account."""

    kind = "mariadb"
    database = APP_DATABASE
    grants = True  # the administrator gives each new database to the application's account

    @property
    def url(self) -> str:
        """The URL of the application's database, as the application's account."""
        return self.database_url(self.database)

    def database_url(self, name: str) -> str:
        """The URL of database ``name`` on this server, as the application's account."""
        return mysql_url(self.user, self.password, self.host, self.port, name)

    def connect(self, database: str | None = None, timeout: int = 10) -> MySQLdb.Connection:
        """A connection over TCP as the application's account (autocommit)."""
        return open_connection(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            database=database or self.database,
            connect_timeout=timeout,
        )

    def check_ready(self) -> None:
        """``SELECT 1`` as the application's account; raises until the server answers it."""
        with contextlib.closing(self.connect(timeout=2)) as conn, conn.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()

    def create_database(self, name: str) -> str:
        """Create database ``name`` (utf8mb4) unless it exists, the application's; its URL."""
        statements = [(create_database_statement(name), ())]
        if self.grants:
            statements.append((grant_statement(name), (self.user,)))
        self._admin(statements, f"create database {name!r}")
        return self.database_url(name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name`` if it exists."""
        self._admin([(f"DROP DATABASE IF EXISTS {quote_name(name)}", ())], f"drop {name!r}")

    def _admin(self, statements: Statements, what: str) -> None:
        """Run ``statements`` with the administrator's rights (each provider knows how)."""
        raise NotImplementedError

    def _run(
        self, connect: Callable[[], MySQLdb.Connection], statements: Statements, what: str
    ) -> None:
        """Execute each statement with its parameters on a connection from ``connect``."""
        try:
            with contextlib.closing(connect()) as connection, connection.cursor() as cursor:
                for statement, parameters in statements:
                    cursor.execute(statement, parameters)
        except MySQLdb.Error as exc:
            raise ServiceError(f"cannot {what} on {self!r}: {exc}") from exc


def open_connection(**kwargs: Any) -> MySQLdb.Connection:
    """A MySQLdb connection in utf8mb4 and autocommit."""
    connection = MySQLdb.connect(charset="utf8mb4", **kwargs)
    connection.autocommit(True)
    return connection


class LocalMariaDB(MariaDBService):
    """A MariaDB server run from the local binaries, in a directory we own.

    The administrator (root) logs in only through the server's own socket, as the account that
    started it; the application's account ``user`` (a generated password) owns ``database``.
    ``data_dir`` None: a temporary directory, removed by stop(). Given: kept, and reused with
    the same credentials (``service.json``) when started again. As root, the programs run as
    the first existing account of ``run_as``. ``fsync`` False suits throw-away test servers.
    ``test_databases`` (on by default, for test servers) lets the account make and use
    Django's test copies of its database; a server holding an application's data turns it off.
    """

    def __init__(
        self,
        data_dir: Path | str | None = None,
        *,
        port: int | None = None,
        user: str = "minestrone",
        database: str = APP_DATABASE,
        fsync: bool = False,
        test_databases: bool = True,
        start_timeout: float = 60.0,
        programs: tuple[Path, Path] | None = None,
        run_as: Sequence[str] | None = ("mysql", "nobody"),
        host: str = LOOPBACK,
    ) -> None:
        super().__init__()
        self.host = host
        self.workdir = WorkDir(data_dir, prefix="minestrone-mariadb-")
        self.requested_port = port
        self.user = user
        self.database = database
        self.fsync = fsync
        self.test_databases = test_databases
        self.start_timeout = start_timeout
        self.programs = programs
        self.run_as = run_as
        self.account: Account | None = None
        self.layout: Layout | None = None
        self.pid: int | None = None
        self._server: subprocess.Popen | None = None
        self._socket_dir: str | None = None  # a short one of ours when the directory's is too long

    @property
    def directory(self) -> Path | None:
        """The server's directory (None before start and after a temporary one is removed)."""
        return self.workdir.path

    def _read_log(self, lines: int) -> str:
        return process.log_tail(self.layout.log, lines) if self.directory and self.layout else ""

    def _start(self) -> None:
        server, installer = self.programs = self.programs or mariadb_programs()
        self.account = unprivileged_account(self.run_as) if self.run_as else None
        directory = self.workdir.open()
        self.layout = Layout(directory, self._choose_socket_dir(directory))
        if self.account is not None:
            check_traversable(directory, self.account)
        state = self._credentials(directory)
        self.port = self._choose_port(state.get("port"))
        save_state(directory, {**state, "port": self.port})
        self.layout.tmpdir.mkdir(exist_ok=True)
        options = self.layout.option_file
        options.write_text(render_options(self.layout, self.port, host=self.host, fsync=self.fsync))
        options.chmod(0o644)  # mariadbd ignores a world-writable option file; ours holds no secret
        for path in (directory, self.layout.tmpdir, options, self.layout.socket_dir):
            hand_over(path, self.account)
        self.layout.log.touch()
        hand_over(self.layout.log, self.account)
        if not (self.layout.datadir / "mysql").is_dir():
            self._install(installer)
        self._server = process.spawn(
            server_command(server, self.layout),
            log_path=self.layout.log,
            cwd=directory,
            account=self.account,
        )
        self.pid = self._server.pid
        process.wait_until_ready(
            self._admin_ping,
            alive=lambda: self._server.poll() is None,
            timeout=self.start_timeout,
            what="MariaDB",
            tail=self.log_tail,
        )
        statements = owner_statements(
            self.user, self.password, self.database, test_databases=self.test_databases
        )
        self._admin(statements, "set up")
        self.check_ready()

    def _credentials(self, directory: Path) -> dict:
        state = load_state(directory)
        if state is None and (self.layout.datadir / "mysql").is_dir():
            raise ServiceError(
                f"{self.layout.datadir} holds a server's data but {directory} has no credentials "
                "file (service.json): restore the file or remove the directory"
            )
        state = state or {"user": self.user, "password": new_password(), "database": self.database}
        self.user, self.password, self.database = (
            state["user"],
            state["password"],
            state["database"],
        )
        return state

    def _choose_socket_dir(self, directory: Path) -> Path:
        if socket_fits(directory):
            return directory
        self._socket_dir = tempfile.mkdtemp(prefix="mdb-")
        return Path(self._socket_dir)

    def _choose_port(self, stored: int | None) -> int:
        if self.requested_port is not None:
            ensure_port_free(self.requested_port, "MariaDB", self.host)
            return self.requested_port
        if stored is not None and port_is_free(stored, self.host):
            return stored
        return free_port(self.host)

    def _install(self, installer: Path) -> None:
        me = pwd.getpwuid(os.geteuid()).pw_name
        child = process.spawn(
            install_command(installer, self.layout, me),
            log_path=self.layout.log,
            cwd=self.directory,
            account=self.account,
        )
        try:
            code = child.wait(self.start_timeout)
        except subprocess.TimeoutExpired:
            process.kill_group(child.pid)
            child.wait()
            code = -signal.SIGKILL
        if code != 0:
            raise ServiceStartError(
                f"mariadb-install-db failed (exit status {code})", self.log_tail()
            )

    def _admin_connection(self, timeout: int = 10) -> MySQLdb.Connection:
        """root (as our own account, through the socket: no password exists)."""
        return open_connection(
            unix_socket=str(self.layout.socket),
            user=pwd.getpwuid(os.geteuid()).pw_name,
            connect_timeout=timeout,
        )

    def _admin_ping(self) -> None:
        with contextlib.closing(self._admin_connection(timeout=2)) as conn, conn.cursor() as cur:
            cur.execute("SELECT 1")

    def _admin(self, statements: Statements, what: str) -> None:
        self._run(self._admin_connection, statements, what)

    def alive(self) -> bool:
        """Whether the server started by start() still runs."""
        return self.running and self._server is not None and self._server.poll() is None

    def _stop(self) -> None:
        if self._server is not None:
            # SIGTERM: a clean shutdown (InnoDB flushed); its group is killed after the wait
            process.stop_child(self._server, timeout=60)
            self._server = None

    def _cleanup(self) -> None:
        self.workdir.close()
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None
