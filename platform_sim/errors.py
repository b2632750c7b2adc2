"""The one exception family of platform_sim; the CLI turns each into a message and exit status."""

from __future__ import annotations


class PlatformError(Exception):
    """Base of every error platform_sim reports to its user."""

    exit_code = 1

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class UsageError(PlatformError):
    """The command line asks for something that cannot be done as asked."""

    exit_code = 2


class NotDeployed(UsageError):
    """A command needs a deployed application, and this one was never pushed (or is gone)."""

    def __init__(self, app: str) -> None:
        super().__init__(
            f"application {app!r} has never been pushed, so there is nothing to act on: "
            f"push it first (platform_sim -A {app} push PATH)"
        )


def one_line(text: str) -> str:
    """``text`` with every line break and non-printable character escaped (``\\n``, ``\\x01``)."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


class BuildFileError(PlatformError):
    """``dotcloud.yml`` is missing, unreadable or invalid; carries the platform's position."""

    exit_code = 3

    def __init__(
        self,
        message: str,
        line: int | None = 1,
        column: int = 1,
        filename: str = "dotcloud.yml",
    ) -> None:
        message = one_line(message)
        self.problem = message
        self.line = line
        self.column = column
        self.filename = filename
        if line is not None:
            message = f'{message} in "{filename}", line {line}, column {column}'
        super().__init__(message)


class UnsupportedService(BuildFileError):
    """A type the platform knew but platform_sim does not run."""


class AppNotFound(PlatformError):
    """No application of that name has been pushed (or it was destroyed)."""

    exit_code = 4


class StepFailed(PlatformError):
    """A build or deploy step exited non-zero or ran over its time limit."""

    exit_code = 5

    def __init__(self, service: str, step: str, status: int | None, tail: str) -> None:
        self.service = service
        self.step = step
        self.status = status
        self.tail = tail
        outcome = "timed out" if status is None else f"exited with status {status}"
        super().__init__(f"[{service}] {step} {outcome}", tail)


class DataServiceError(PlatformError):
    """A data service (PostgreSQL, RabbitMQ) could not be created or started."""

    exit_code = 6


class HostError(PlatformError):
    """This machine lacks something platform_sim needs (a program, root, a namespace)."""

    exit_code = 7


class NeverReady(PlatformError):
    """A readiness probe's verdict: the process tree failed for good, waiting will not help."""


class NotReadyYet(PlatformError, OSError):
    """A server answered, but is not ready for sessions yet (an OSError: try again later)."""
