"""A server's own directory: the one given (kept, for persistence) or a temporary one (removed)."""

import shutil
import tempfile
from pathlib import Path


class WorkDir:
    """The directory a local server lives in."""

    def __init__(self, given: Path | str | None, prefix: str) -> None:
        self.given = None if given is None else Path(given).absolute()
        self.prefix = prefix
        self.path: Path | None = None

    @property
    def temporary(self) -> bool:
        """Whether the directory is removed when the server stops."""
        return self.given is None

    def open(self) -> Path:
        """Create the directory (if needed) and return it."""
        if self.path is None:
            if self.given is None:
                self.path = Path(tempfile.mkdtemp(prefix=self.prefix))
            else:
                self.given.mkdir(parents=True, exist_ok=True, mode=0o700)
                self.path = self.given
        return self.path

    def close(self) -> None:
        """Remove a temporary directory; keep a given one."""
        if self.path is not None and self.temporary:
            shutil.rmtree(self.path, ignore_errors=True)
        self.path = None
