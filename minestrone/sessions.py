"""Expired sessions, deleted by the camera's cleanup: Django leaves them to ``clearsessions``,
which nothing on the platform runs, so every anonymous visitor's would stay forever."""

from __future__ import annotations

import contextlib
from datetime import datetime
from importlib import import_module

from django.conf import settings


def clear_expired(now: datetime) -> int:
    """Delete the sessions expired before ``now``; return how many (0 when not countable)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    model_class = getattr(store, "get_model_class", None)
    if model_class is None:  # cookie or cache sessions expire by themselves
        with contextlib.suppress(NotImplementedError):
            store.clear_expired()
        return 0
    deleted, _ = model_class().objects.filter(expire_date__lt=now).delete()
    return deleted
