"""Reading log files as they grow: their last lines, then each new complete line, like
``tail -F`` (a file truncated or replaced by rotation is read again from its start)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

BLOCK = 8192
MAX_READ = 1 << 20


@dataclass(frozen=True)
class LogFile:
    """A log file of an instance: where it is on the host, and its path as the instance sees it."""

    label: str
    path: Path
    shown: str


def decode(raw: bytes) -> str:
    """One line of a log, as text."""
    return raw.decode("utf-8", "replace").rstrip("\r")


def last_lines(handle: BinaryIO, end: int, count: int) -> list[str]:
    """The last ``count`` complete lines before offset ``end`` of an open file."""
    if count <= 0 or end <= 0:
        return []
    data = b""
    position = end
    while position > 0 and data.count(b"\n") <= count:
        step = min(BLOCK, position)
        position -= step
        handle.seek(position)
        data = handle.read(step) + data
    lines = data[: data.rfind(b"\n") + 1].split(b"\n")[:-1] if b"\n" in data else []
    if position > 0:
        lines = lines[1:]  # the first one is cut
    return [decode(line) for line in lines[-count:]]


class Tailer:
    """Follows one file: returns the complete lines appended since the previous read."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.handle: BinaryIO | None = None
        self.inode: int | None = None
        self.partial = b""

    def start(self, history: int) -> list[str]:
        """Open the file at its end; return its last ``history`` lines (none if it is missing)."""
        if not self._open():
            return []
        end = os.fstat(self.handle.fileno()).st_size
        lines = last_lines(self.handle, end, history)
        self.handle.seek(end)
        return lines

    def read(self) -> list[str]:
        """The new complete lines (after a rotation: the old file's rest, then the new file's)."""
        if self.handle is None:
            return [decode(line) for line in self._drain()] if self._open() else []
        lines = self._drain()
        try:
            replaced = os.stat(self.path).st_ino != self.inode
        except FileNotFoundError:
            replaced = False
        if os.fstat(self.handle.fileno()).st_size < self.handle.tell():
            self.handle.seek(0)  # truncated: start again
            self.partial = b""
            lines += self._drain()
        elif replaced:
            self.close()
            if self._open():
                lines += self._drain()
        return [decode(line) for line in lines]

    def _open(self) -> bool:
        try:
            self.handle = open(self.path, "rb")  # noqa: SIM115 - kept open while following
        except (FileNotFoundError, IsADirectoryError, PermissionError):
            self.handle = None
            return False
        self.inode = os.fstat(self.handle.fileno()).st_ino
        self.partial = b""
        return True

    def _drain(self) -> list[bytes]:
        data = self.partial + self.handle.read(MAX_READ)
        lines = data.split(b"\n")
        self.partial = lines.pop()
        return lines

    def close(self) -> None:
        """Stop following."""
        if self.handle is not None:
            self.handle.close()
            self.handle = None
