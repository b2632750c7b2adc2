"""A service's lasting settings (credentials, port, node name) in a 0600 JSON file."""

import json
import os
import secrets
from pathlib import Path
from typing import Any

STATE_FILE = "service.json"


def new_password() -> str:
    """A random password that needs no quoting in URLs or config files."""
    return secrets.token_urlsafe(24)


def load_state(directory: Path) -> dict[str, Any] | None:
    """The settings stored in ``directory``, or None when there are none yet."""
    try:
        return json.loads((directory / STATE_FILE).read_text())
    except FileNotFoundError:
        return None


def save_state(directory: Path, data: dict[str, Any]) -> None:
    """Store ``data`` in ``directory``, readable by its owner only, replaced atomically."""
    target = directory / STATE_FILE
    scratch = directory / f".{STATE_FILE}.{os.getpid()}"
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
    os.chmod(scratch, 0o600)
    os.replace(scratch, target)
