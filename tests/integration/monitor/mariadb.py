"""Run a test module's Django on a real MariaDB: the session's default database (PostgreSQL) is
swapped for a MariaDB database, set up as the app sets it up from its environment file."""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Iterator
from pathlib import Path

from django.core.management import call_command
from django.db import connections

from minestrone import platform_env
from tests.integration.kinds import database_name, database_variables

REDIS_BROKER = {  # never connected to: the environment file needs a broker to be read
    "DOTCLOUD_QUEUE_REDIS_HOST": "127.0.0.1",
    "DOTCLOUD_QUEUE_REDIS_PORT": "9",
    "DOTCLOUD_QUEUE_REDIS_PASSWORD": "unused",
}


def app_database(server, url: str, folder: Path, broker: dict[str, str]) -> tuple[dict, Path]:
    """DATABASES["default"] as the app reads it from its environment file, and the file."""
    path = folder / "environment.json"
    path.write_text(
        json.dumps(database_variables("mysql", server, database_name(url)) | broker, indent=4)
    )
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
