"""One builder per image on this machine at a time: the others wait, then find it built.

Test processes running side by side (pytest-xdist workers, tox environments) may all need the
base image or a data-service image that is not built yet; without this they would each build it.
"""

from __future__ import annotations

import contextlib
import fcntl
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import EngineError

WAIT_SECONDS = 45 * 60  # longer than one build may take (podman.BUILD_TIMEOUT)


def lock_path(image: str, folder: Path | None = None) -> Path:
    """The lock file of ``image`` (a name safe for any file system)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", image)
    return (folder or Path(tempfile.gettempdir())) / f"minestrone-build-{safe}.lock"


@contextlib.contextmanager
def building(
    image: str, *, timeout: float = WAIT_SECONDS, folder: Path | None = None
) -> Iterator[None]:
    """Hold ``image``'s build lock (waiting at most ``timeout`` seconds for another builder)."""
    with open(lock_path(image, folder), "a") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise EngineError(
                        f"another process has been building {image} for over {timeout:g} s "
                        f"(lock {handle.name}): wait for it, or stop it"
                    ) from None
                time.sleep(0.5)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
