"""Small file helpers: JSON records (owner-only, atomic: ``machine.files``), tails of logs."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from machine.files import PRIVATE, write_text

__all__ = ["PRIVATE", "read_json", "tail", "write_json", "write_text"]

def write_json(path: Path, data: Any, mode: int = PRIVATE) -> None:
    """Store ``data`` as indented JSON, owner-only by default."""
    write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n", mode)


def read_json(path: Path, default: Any = None) -> Any:
    """The JSON stored at ``path``, or ``default`` when the file does not exist."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default


def tail(path: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of a text file ("" when it does not exist)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 300 * lines))
            data = handle.read()
    except (FileNotFoundError, IsADirectoryError):
        return ""
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])
