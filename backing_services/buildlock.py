"""One builder per image on this machine at a time: the others wait, then find it built.

Test processes running side by side (pytest-xdist workers, tox environments) may all need the
base image or a data-service image that is not built yet; without this they would each build it.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import EngineError
from .filelock import held

WAIT_SECONDS = 45 * 60  # longer than one build may take (podman.BUILD_TIMEOUT)


def lock_path(image: str, folder: Path | None = None) -> Path:
    """The lock file of ``image`` (a name safe for any file system), one per user: each user's
    Podman has an image store of its own, and another user's file in /tmp cannot be opened."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", image)
    return (folder or Path(tempfile.gettempdir())) / f"minestrone-build-{os.getuid()}-{safe}.lock"


@contextlib.contextmanager
def building(
    image: str, *, timeout: float = WAIT_SECONDS, folder: Path | None = None
) -> Iterator[None]:
    """Hold ``image``'s build lock (waiting at most ``timeout`` seconds for another builder)."""
    path = lock_path(image, folder)

    def refused() -> EngineError:
        return EngineError(
            f"another process has been building {image} for over {timeout:g} s "
            f"(lock {path}): wait for it, or stop it"
        )

    with held(path, timeout, refused, poll=0.5):
        yield
