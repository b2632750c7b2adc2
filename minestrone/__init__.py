"""minestrone: the Django project of the Django-and-Celery tutorial, on today's stack."""

from minestrone.celery_app import app as celery_app

__all__ = ("celery_app",)
