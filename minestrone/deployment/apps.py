"""Django configuration of the deployment app."""

from django.apps import AppConfig


class DeploymentConfig(AppConfig):
    """Management commands and helpers used while deploying."""

    name = "minestrone.deployment"
    default_auto_field = "django.db.models.BigAutoField"
