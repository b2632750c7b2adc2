"""The project's WSGI application (the top-level wsgi.py re-exports it for the platform)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minestrone.settings")

application = get_wsgi_application()
