"""Django configuration of the monitor app."""

from django.apps import AppConfig


class MonitorConfig(AppConfig):
    """Tasks and workers as Celery's events report them (django-celery's monitor, rebuilt)."""

    name = "minestrone.monitor"
    label = "monitor"
    verbose_name = "Celery monitor"
    default_auto_field = "django.db.models.BigAutoField"
