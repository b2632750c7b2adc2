"""The deployment's exceptions, under DeploymentError."""

from minestrone.errors import MinestroneError


class DeploymentError(MinestroneError):
    """A deployment step (database, admin account) could not be done as asked."""


class DatabaseSetupError(DeploymentError):
    """The database server could not be reached or the database could not be created."""


class AdminAccountError(DeploymentError):
    """The admin account could not be set up as asked."""
