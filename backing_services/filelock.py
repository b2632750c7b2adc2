"""An exclusive lock on a file, waited for at most a while: one holder at a time on a machine."""

from __future__ import annotations

import contextlib
import fcntl
import time
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def held(
    path: Path, wait: float, refused: Callable[[], Exception], poll: float = 0.2
) -> Iterator[None]:
    """Hold ``path``'s lock, waiting at most ``wait`` seconds for another holder; past that,
    raise ``refused()``."""
    with open(path, "a") as handle:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise refused() from None
                time.sleep(poll)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
