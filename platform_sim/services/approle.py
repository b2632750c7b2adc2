"""The application's own PostgreSQL role: it owns one database and nothing more.

Every target gives the app this role in ``DOTCLOUD_<SVC>_SQL_{LOGIN,PASSWORD}`` and its
database in ``DOTCLOUD_<SVC>_SQL_DATABASE``; the superuser (``root``) only creates the role and
the database, and its password stays with the data service: platform_sim's own state, the
``db.password`` file only the Compose ``db`` container mounts, the ``db-credentials`` Secret
only the StatefulSet reads.
"""

from __future__ import annotations

from pathlib import Path

from backing_services.state import new_password
from platform_sim.files import read_json, write_json

LOGIN = "app"
DATABASE = "app"
CREDENTIALS_FILE = "app-role.json"
# What the postgresql image's entrypoint reads to make the role (beside POSTGRES_USER…).
IMAGE_LOGIN = "POSTGRES_APP_USER"
IMAGE_PASSWORD = "POSTGRES_APP_PASSWORD"  # noqa: S105 - a variable name
IMAGE_DATABASE = "POSTGRES_APP_DB"


def image_variables(password: str | None = None) -> dict[str, str]:
    """The entrypoint's variables naming the role and its database (the password if given)."""
    variables = {IMAGE_LOGIN: LOGIN, IMAGE_DATABASE: DATABASE}
    if password is not None:
        variables[IMAGE_PASSWORD] = password
    return variables


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
        write_json(path, {"login": LOGIN, "password": password})
    return password
