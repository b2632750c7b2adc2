"""The project's Celery application, configured from Django's settings."""

import os

from celery import Celery

# Replaces the workers' `conf` and `report` remote-control replies with ones without secrets.
from minestrone import remote_control  # noqa: F401

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minestrone.settings")

app = Celery("minestrone")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
