"""Small file helpers: owner-only atomic writes, JSON records, tails of logs."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

PRIVATE = 0o600


def write_text(path: Path, text: str, mode: int = PRIVATE) -> None:
    """Write ``text`` to ``path`` atomically (a temporary file renamed over it) with ``mode``."""
    path = Path(path)
    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(scratch, mode)
        os.replace(scratch, path)
    except BaseException:
        scratch.unlink(missing_ok=True)
        raise


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
