"""The interface every backing service shares: start, wait until ready, report, stop."""

import abc
from types import TracebackType
from typing import Self

from .ports import LOOPBACK


class Service(abc.ABC):
    """A server to use: start() waits until it really answers; stop() leaves nothing behind."""

    kind: str = "service"

    def __init__(self) -> None:
        self.host: str = LOOPBACK
        self.port: int = 0
        self.user: str = ""
        self.password: str = ""
        self.running = False
        self._last_log = ""

    @property
    @abc.abstractmethod
    def url(self) -> str:
        """The URL that reaches the server (credentials included)."""

    @abc.abstractmethod
    def _start(self) -> None:
        """Start the server and return once it answers a real request."""

    @abc.abstractmethod
    def _stop(self) -> None:
        """Stop whatever _start() began, even half-way; must tolerate nothing to stop."""

    def alive(self) -> bool:
        """Whether the server's process still runs (a provider that cannot tell: started)."""
        return self.running

    def _cleanup(self) -> None:  # noqa: B027 - optional hook
        """Remove what should not outlive the server (temporary directories)."""

    def _read_log(self, lines: int) -> str:
        """The last lines of the server's log, "" when there is none."""
        return ""

    def start(self) -> Self:
        """Start the server and wait until it is ready; on failure, stop what was started."""
        if self.running:
            return self
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        self.running = True
        return self

    def stop(self) -> None:
        """Stop the server and clean up; calling it again does nothing."""
        self._keep_log()  # before: a container's log goes with the container
        try:
            self._stop()
        finally:
            self._keep_log()  # after: a local server's shutdown messages
            self.running = False
            self._cleanup()

    def _keep_log(self) -> None:
        self._last_log = self._read_log(200) or self._last_log

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the server's log, kept after stop() removed its directory."""
        return self._read_log(lines) or "\n".join(self._last_log.splitlines()[-lines:])

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = " running" if self.running else ""
        return f"<{type(self).__name__} {self.host}:{self.port}{state}>"
