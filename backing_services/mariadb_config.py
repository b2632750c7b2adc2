"""The option file, installer command and account statements of a MariaDB server we own."""

import re
from dataclasses import dataclass
from pathlib import Path

from .ports import LOOPBACK

CHARSET = "utf8mb4"
COLLATION = "utf8mb4_unicode_ci"
SOCKET_PATH_MAX = 100  # a Unix socket path holds ~107 bytes
NAME_MAX = 64  # MariaDB's limit on database names; user names: 80
_PATH = re.compile(r"[^\s\"'\\#;]+")


@dataclass(frozen=True)
class Layout:
    """Where a server keeps its files: all in ``root`` but the socket, in ``socket_dir``."""

    root: Path
    socket_dir: Path

    option_file = property(lambda self: self.root / "my.cnf")
    datadir = property(lambda self: self.root / "data")
    tmpdir = property(lambda self: self.root / "tmp")
    pid_file = property(lambda self: self.root / "mariadbd.pid")
    log = property(lambda self: self.root / "mariadb.log")
    socket = property(lambda self: self.socket_dir / "mariadbd.sock")


def socket_fits(directory: Path) -> bool:
    """Whether a socket in ``directory`` has a path short enough for the kernel."""
    return len(str(directory)) < SOCKET_PATH_MAX - len("/mariadbd.sock")


def _path(path: Path) -> str:
    if not _PATH.fullmatch(str(path)):
        raise ValueError(f"MariaDB cannot use the path {str(path)!r} (spaces, quotes, # or ;)")
    return str(path)


def render_options(layout: Layout, port: int, *, host: str = LOOPBACK, fsync: bool = False) -> str:
    """``my.cnf``: TCP on ``host:port``, a socket of its own, utf8mb4, nothing from /etc.

    ``fsync`` False (test servers) writes InnoDB's log at each commit but syncs it once a
    second; True syncs at every commit, for data that matters.
    """
    lines = [
        "[mysqld]",
        f"datadir={_path(layout.datadir)}",
        f"tmpdir={_path(layout.tmpdir)}",
        f"socket={_path(layout.socket)}",
        f"pid-file={_path(layout.pid_file)}",
        f"port={int(port)}",
        f"bind-address={host}",
        "skip-name-resolve",
        f"character-set-server={CHARSET}",
        f"collation-server={COLLATION}",
        f"innodb_flush_log_at_trx_commit={1 if fsync else 2}",
        "innodb_buffer_pool_size=64M",
        "performance_schema=OFF",
        "skip-log-bin",
        "max_connections=300",
    ]
    return "\n".join(lines) + "\n"


def install_command(installer: Path, layout: Layout, socket_user: str) -> list[str]:
    """``mariadb-install-db``: system tables only; root logs in by socket, as ``socket_user``."""
    return [
        str(installer),
        f"--defaults-file={layout.option_file}",
        "--auth-root-authentication-method=socket",
        f"--auth-root-socket-user={socket_user}",
        "--skip-test-db",
    ]


def server_command(server: Path, layout: Layout) -> list[str]:
    """``mariadbd`` reading our option file only."""
    return [str(server), f"--defaults-file={layout.option_file}"]


def check_name(name: str, what: str = "database") -> str:
    """``name`` when MariaDB can use it as a database or user name, else ValueError."""
    if not name or len(name) > NAME_MAX or "\x00" in name or name != name.strip():
        raise ValueError(f"not a usable MariaDB {what} name: {name!r}")
    return name


def quote_name(name: str) -> str:
    """``name`` as a backquoted identifier, ``%`` doubled for a statement with parameters."""
    return "`" + name.replace("`", "``").replace("%", "%%") + "`"


def like_pattern(prefix: str) -> str:
    """A GRANT database pattern matching names that start with ``prefix``."""
    return re.sub(r"([\\_%])", r"\\\1", prefix) + "%"


def create_database_statement(database: str) -> str:
    """``CREATE DATABASE IF NOT EXISTS`` in utf8mb4 (for a statement with parameters)."""
    return (
        f"CREATE DATABASE IF NOT EXISTS {quote_name(check_name(database))} "
        f"CHARACTER SET {CHARSET} COLLATE {COLLATION}"
    )


def grant_statement(database: str) -> str:
    """Every privilege on ``database`` to the account given as parameter (any host)."""
    return f"GRANT ALL PRIVILEGES ON {quote_name(database)}.* TO %s@'%%'"


def owner_statements(
    user: str, password: str, database: str, *, test_databases: bool = True
) -> list[tuple[str, tuple]]:
    """Statements and parameters: account ``user`` (any host) owning ``database``.

    Owning: every privilege on that database (and with ``test_databases``, on Django's test
    copies of it, ``test_<database>…``), nothing on the server or on other databases. Run at
    every start, so a changed password takes effect. The password is a parameter, never in the
    statement. The image's ``app-account`` (backing_services/images/mariadb) runs the same.
    """
    check_name(user, "user")
    statements = [
        ("CREATE USER IF NOT EXISTS %s@'%%' IDENTIFIED BY %s", (user, password)),
        ("ALTER USER %s@'%%' IDENTIFIED BY %s", (user, password)),
        (create_database_statement(database), ()),
        (grant_statement(database), (user,)),
    ]
    if test_databases:
        statements.append((grant_statement(like_pattern(f"test_{database}")), (user,)))
    return statements


def sql_literal(value: str) -> str:
    """``value`` as a quoted SQL string (MariaDB's default mode: backslash escapes)."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'").replace("\x00", "\\0")
    return f"'{escaped}'"


def render_statement(statement: str, parameters: tuple) -> str:
    """A statement with its parameters filled in as literals, for a client on the command line."""
    return statement % tuple(sql_literal(value) for value in parameters)
