"""What a command prints while it works: steps, and lines prefixed with their service."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO


class Printer:
    """Thread-safe output: ``-----> step`` lines and ``[svc] line`` lines, flushed at once."""

    def __init__(
        self, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.clock = clock
        self.started = clock()
        self._lock = threading.Lock()

    def _write(self, text: str) -> None:
        with self._lock:
            self.stream.write(text + "\n")
            self.stream.flush()

    def step(self, text: str, prefix: str = "") -> None:
        """Announce a step (with the elapsed time, for progress)."""
        elapsed = self.clock() - self.started
        label = f"[{prefix}] " if prefix else ""
        self._write(f"{label}-----> {text} (t+{elapsed:.1f}s)")

    def line(self, prefix: str, text: str) -> None:
        """One line of a step's output, prefixed with its service or instance."""
        self._write(f"[{prefix}] {text}")

    def say(self, text: str) -> None:
        """A plain line."""
        self._write(text)


class QuietPrinter(Printer):
    """A printer that keeps the lines in memory (tests, benchmarks)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(stream=sys.stdout, clock=clock)
        self.lines: list[str] = []

    def _write(self, text: str) -> None:
        with self._lock:
            self.lines.append(text)
