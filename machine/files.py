"""Owner-only files: written atomically, never through a link."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

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
