"""Django configuration of the deployment app."""

from django.apps import AppConfig


class DeploymentConfig(AppConfig):
    """Management commands and helpers used while deploying."""

    name = "minestrone.deployment"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Every PostgreSQL wait of this process gets a deadline (a frozen server fails fast)."""
        from .dbwait import install

        install()
