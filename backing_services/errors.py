"""The one exception family raised by backing_services."""

INSTALL_HINT = (
    "Hint: install the servers (apt-get install postgresql rabbitmq-server), "
    "or name running ones with MINESTRONE_POSTGRES_URL / MINESTRONE_RABBITMQ_URL, "
    "or start a Docker engine."
)


class ServiceError(Exception):
    """Base of every error about a backing service."""


class ServiceUnavailable(ServiceError):
    """Nothing on this machine can provide the service."""

    def __init__(self, message: str) -> None:
        self.reason = message
        super().__init__(f"{message}\n{INSTALL_HINT}")


class ServiceStartError(ServiceError):
    """A server died, or was not ready in time, while starting."""

    def __init__(self, message: str, log_tail: str = "") -> None:
        self.log_tail = log_tail
        if log_tail:
            message = f"{message}\n--- last lines of its log ---\n{log_tail}"
        super().__init__(message)


class PortInUse(ServiceStartError):
    """The port a server should listen on is already taken."""
