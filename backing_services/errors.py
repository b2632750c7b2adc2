"""The one exception family raised by backing_services."""

INSTALL_HINT = (
    "Hint: install the servers (bin/bootstrap, or apt-get install postgresql rabbitmq-server "
    "redis-server mariadb-server), or name running ones with MINESTRONE_POSTGRES_URL / "
    "MINESTRONE_RABBITMQ_URL / MINESTRONE_REDIS_URL / MINESTRONE_MYSQL_URL, "
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


class EngineError(ServiceError):
    """The container engine (Podman) is missing, cannot run containers, or a build failed."""


class EngineMissing(EngineError):
    """Podman, runc or debootstrap is not installed, or containers cannot run here."""


class ImageBuildError(EngineError):
    """One step of an image build failed; carries the step and the tail of its output."""

    def __init__(self, image: str, step: str, status: int | None, tail: str) -> None:
        self.image = image
        self.step = step
        self.status = status
        self.tail = tail
        outcome = "timed out" if status is None else f"exited with status {status}"
        super().__init__(f"building {image}: {step} {outcome}")
