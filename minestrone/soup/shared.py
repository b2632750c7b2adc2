"""One value shared by every request of a process for a few seconds, computed once per period."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Shared(Generic[T]):
    """Call `compute` at most once per `seconds` in this process; concurrent callers wait for
    the one computation instead of starting their own."""

    def __init__(self, compute: Callable[[], T], seconds: float, clock=time.monotonic):
        self.compute = compute
        self.seconds = seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._value: T | None = None
        self._at = 0.0

    def __call__(self) -> T:
        """The value computed within the last `seconds`, else a new one."""
        with self._lock:
            if self._value is None or self._clock() - self._at >= self.seconds:
                self._value = self.compute()
                self._at = self._clock()
            return self._value

    def clear(self) -> None:
        """Forget the value: the next call computes it."""
        with self._lock:
            self._value = None
