"""Django configuration of the throttle app."""

from django.apps import AppConfig


class ThrottleConfig(AppConfig):
    """The requests counted by the anonymous job rate and the API's requests per minute."""

    name = "minestrone.throttle"
    default_auto_field = "django.db.models.BigAutoField"
