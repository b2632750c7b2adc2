"""Settings for the test suite: the project's own, in development mode, with fast fakes."""

import os

os.environ["MINESTRONE_ENV_FILE"] = ""  # development mode, whatever ~/environment.json holds
os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-key-not-used-anywhere-else-0123456789")

from minestrone import queues  # noqa: E402
from minestrone.settings import *  # noqa: E402,F403

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
CELERY_BROKER_URL = "memory://"
CELERY_TASK_QUEUES = queues.task_queues(CELERY_BROKER_URL, MINESTRONE_DELIVERY_LIMIT)  # noqa: F405
CELERY_TASK_DEFAULT_QUEUE = queues.default_queue_name(CELERY_BROKER_URL)  # noqa: F405
CELERY_BROKER_TRANSPORT_OPTIONS = {}
SOUP_LAZY_JOB_SECONDS = 0.0
SOUP_INSPECT_TIMEOUT = 0.2
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING = {"version": 1, "disable_existing_loggers": False}
