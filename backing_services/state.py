"""A service's lasting settings (credentials, port, node name) in a 0600 JSON file."""

import json
import secrets
from pathlib import Path
from typing import Any

from machine.files import write_text

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
    write_text(directory / STATE_FILE, json.dumps(data, indent=2, sort_keys=True))
