"""The application's own PostgreSQL role: its password, kept with the data service.

Every target gives the app this role (``kinds.base.APP_LOGIN``) in
``DOTCLOUD_<SVC>_SQL_{LOGIN,PASSWORD}`` and its database in ``DOTCLOUD_<SVC>_SQL_DATABASE``;
the superuser (``root``) only creates the role and the database, and its password stays with
the data service: platform_sim's own state, the ``db.password`` file only the Compose ``db``
container mounts, the ``db-credentials`` Secret only the StatefulSet reads.
"""

from __future__ import annotations

from pathlib import Path

from backing_services.state import new_password
from platform_sim.files import read_json, write_json
from platform_sim.kinds.base import APP_LOGIN

CREDENTIALS_FILE = "app-role.json"


def kept_password(folder: Path) -> str:
    """The role's password stored (owner-only) in a data service's folder, made once."""
    path = folder / CREDENTIALS_FILE
    try:
        stored = read_json(path, {})
    except ValueError:  # damaged: a new one (every push sets the role's password anew)
        stored = {}
    password = stored.get("password") if isinstance(stored, dict) else None
    if not isinstance(password, str) or not password:
        password = new_password()
        write_json(path, {"login": APP_LOGIN, "password": password})
    return password
