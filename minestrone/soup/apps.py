"""Django configuration of the soup app."""

from django.apps import AppConfig


class SoupConfig(AppConfig):
    """The tutorial's app: queue lazy jobs, show the active ones."""

    name = "minestrone.soup"
    default_auto_field = "django.db.models.BigAutoField"
