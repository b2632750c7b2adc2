"""Run a test module's Django on a real MariaDB: the session's default database (PostgreSQL) is
swapped for a MariaDB database, set up as the app sets it up from its environment file."""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.management import call_command
from django.db import connections

from minestrone import platform_env

SECRET_KEY = "integration-tests-only-" + "m" * 40


def environment(server, database: str) -> dict[str, str]:
    """The environment file of an app whose `data` service is this MariaDB server."""
    return {
        "DOTCLOUD_DATA_MYSQL_HOST": server.host,
        "DOTCLOUD_DATA_MYSQL_PORT": str(server.port),
        "DOTCLOUD_DATA_MYSQL_LOGIN": server.user,
        "DOTCLOUD_DATA_MYSQL_PASSWORD": server.password,
        "DJANGO_DB_NAME": database,
        "DJANGO_SECRET_KEY": SECRET_KEY,
    }


def database_name(url: str) -> str:
    """The database a ``mysql://`` URL names."""
    return unquote(urlsplit(url).path.lstrip("/"))


def app_database(server, url: str, folder: Path, broker: dict[str, str]) -> tuple[dict, Path]:
    """DATABASES["default"] as the app reads it from its environment file, and the file."""
    path = folder / "environment.json"
    path.write_text(json.dumps(environment(server, database_name(url)) | broker, indent=4))
    path.chmod(0o600)
    return platform_env.platform_settings(path, {}).database, path


@contextlib.contextmanager
def default_database(settings_dict: dict) -> Iterator[None]:
    """Make ``settings_dict`` Django's default database until the block ends."""
    previous = connections.settings["default"]

    def use(settings: dict) -> None:
        connections["default"].close()
        del connections["default"]
        configured = connections.configure_settings({"default": copy.deepcopy(settings)})
        connections.settings["default"] = configured["default"] | {"CONN_MAX_AGE": 0}

    use(settings_dict)
    try:
        call_command("migrate_safely", verbosity=0)  # which drops the client's deadlines
        use(settings_dict)
        yield
    finally:
        connections["default"].close()
        del connections["default"]
        connections.settings["default"] = previous
