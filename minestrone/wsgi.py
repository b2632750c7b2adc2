"""The project's WSGI application (the top-level wsgi.py re-exports it for the platform)."""

import os

from django.core.wsgi import get_wsgi_application

from minestrone.startup import configuration_errors_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minestrone.settings")

with configuration_errors_exit("wsgi"):
    application = get_wsgi_application()
