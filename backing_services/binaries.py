"""Finding the servers' programs, listing every place tried when they are missing."""

import os
import re
from collections.abc import Sequence
from glob import glob
from pathlib import Path

from .errors import ServiceUnavailable

POSTGRES_TOOLS = ("initdb", "pg_ctl", "postgres")
POSTGRES_GLOB = "/usr/lib/postgresql/*/bin"
RABBITMQ_TOOLS = ("rabbitmq-server", "rabbitmqctl")
RABBITMQ_DIRS = ("/usr/lib/rabbitmq/bin",)
RABBITMQ_GLOB = "/usr/lib/rabbitmq/lib/rabbitmq_server-*/sbin"
EPMD_GLOB = "/usr/lib/erlang/erts-*/bin"
SYSTEM_DIRS = ("/usr/sbin", "/usr/bin")  # where Debian puts redis-server and mariadbd
MARIADB_PROGRAMS = (("mariadbd", "mysqld"), ("mariadb-install-db", "mysql_install_db"))
# Debian's /usr/sbin/rabbitmq-* link to this wrapper, which switches to the rabbitmq account.
DEBIAN_WRAPPER = "rabbitmq-script-wrapper"


def _version_key(path: str) -> tuple[int, ...]:
    return tuple(int(number) for number in re.findall(r"\d+", path))


def newest_first(pattern: str) -> list[Path]:
    """Directories matching ``pattern``, highest version number first."""
    return [Path(path) for path in sorted(glob(pattern), key=_version_key, reverse=True)]


def path_dirs(path_env: str | None = None) -> list[Path]:
    """The directories of ``$PATH`` (or of ``path_env``), in order."""
    value = os.environ.get("PATH", "") if path_env is None else path_env
    return [Path(entry) for entry in value.split(os.pathsep) if entry]


def _has_tools(directory: Path, tools: Sequence[str]) -> bool:
    for tool in tools:
        candidate = directory / tool
        if not (candidate.is_file() and os.access(candidate, os.X_OK)):
            return False
        if os.path.basename(os.path.realpath(candidate)) == DEBIAN_WRAPPER:
            return False
    return True


def find_tools_dir(what: str, tools: Sequence[str], candidates: Sequence[Path]) -> Path:
    """The first of ``candidates`` holding all ``tools``; ServiceUnavailable lists them all."""
    for directory in candidates:
        if _has_tools(directory, tools):
            return directory
    tried = "\n".join(f"  {directory}" for directory in candidates) or "  (nowhere)"
    raise ServiceUnavailable(
        f"{what}: no directory holds all of {', '.join(tools)}; tried, in order:\n{tried}"
    )


def postgres_bin_dir(path_env: str | None = None, pattern: str = POSTGRES_GLOB) -> Path:
    """Where ``initdb``, ``pg_ctl`` and ``postgres`` are: $PATH, then the newest version dir."""
    candidates = path_dirs(path_env) + newest_first(pattern)
    return find_tools_dir("PostgreSQL", POSTGRES_TOOLS, candidates)


def rabbitmq_bin_dir(
    path_env: str | None = None,
    fixed: Sequence[str] = RABBITMQ_DIRS,
    pattern: str = RABBITMQ_GLOB,
) -> Path:
    """Where the real ``rabbitmq-server`` and ``rabbitmqctl`` are (never Debian's wrapper)."""
    candidates = [Path(path) for path in fixed] + newest_first(pattern) + path_dirs(path_env)
    return find_tools_dir("RabbitMQ", RABBITMQ_TOOLS, candidates)


def epmd_path(path_env: str | None = None, pattern: str = EPMD_GLOB) -> Path:
    """Erlang's port mapper daemon ``epmd``: $PATH, then the newest erts directory."""
    candidates = path_dirs(path_env) + newest_first(pattern)
    return find_tools_dir("Erlang", ("epmd",), candidates) / "epmd"


def find_program(what: str, names: Sequence[str], candidates: Sequence[Path]) -> Path:
    """The first of ``names`` found in ``candidates`` (directories first, then names)."""
    for directory in candidates:
        for name in names:
            if _has_tools(directory, (name,)):
                return directory / name
    tried = "\n".join(f"  {directory}" for directory in candidates) or "  (nowhere)"
    raise ServiceUnavailable(f"{what}: none of {', '.join(names)} is in any of, in order:\n{tried}")


def redis_server_path(path_env: str | None = None, fixed: Sequence[str] = SYSTEM_DIRS) -> Path:
    """Redis's ``redis-server``: $PATH, then Debian's directories."""
    candidates = path_dirs(path_env) + [Path(path) for path in fixed]
    return find_program("Redis", ("redis-server",), candidates)


def mariadb_programs(
    path_env: str | None = None, fixed: Sequence[str] = SYSTEM_DIRS
) -> tuple[Path, Path]:
    """MariaDB's server and its data directory installer: $PATH, then Debian's directories.

    ``mariadbd`` / ``mariadb-install-db``, or their older names ``mysqld`` / ``mysql_install_db``.
    """
    candidates = path_dirs(path_env) + [Path(path) for path in fixed]
    server, installer = (find_program("MariaDB", names, candidates) for names in MARIADB_PROGRAMS)
    return server, installer
