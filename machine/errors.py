"""The executor's few errors; each user turns them into its own family's."""


class ExecutorError(Exception):
    """Base of the executor's errors."""


class CannotRun(ExecutorError):
    """The program could not be started at all (missing, not executable, bad folder)."""


class NotStarted(ExecutorError):
    """The child exited, or its deadline passed, before its check said ready."""

    def __init__(self, message: str, *, exited: bool) -> None:
        super().__init__(message)
        self.exited = exited
