"""Small file helpers: owner-only atomic writes, JSON records, tails of logs."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

PRIVATE = 0o600


def write_text(path: Path, text: str, mode: int = PRIVATE, owner: int | None = None) -> None:
    """Write ``text`` to ``path`` atomically with ``mode``, never through a link: a scratch file
    is created owner-only (``mkstemp``: ``O_EXCL``, so no link is followed), given to ``owner``
    (a uid, its group the same number; needs root) before anything is written, then renamed
    over ``path`` (a link there is replaced, not followed)."""
    path = Path(path)
    fd, scratch = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), mode)
            if owner is not None:
                os.fchown(handle.fileno(), owner, owner)
            handle.write(text)
        os.replace(scratch, path)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
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
