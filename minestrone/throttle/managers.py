"""The queries of the throttle's table: record a request, read a key's window, forget old rows."""

from __future__ import annotations

from datetime import datetime

from django.db import models


class HitManager(models.Manager):
    """Queries on Hit rows."""

    def record(self, scope: str, key: str, at: datetime):
        """Count one request now (a row of its own: no row is ever updated by two requests)."""
        return self.create(scope=scope, key=key, at=at)

    def in_window(self, scope: str, key: str, since: datetime) -> models.QuerySet:
        """The key's requests after ``since``, the latest first."""
        return self.filter(scope=scope, key=key, at__gt=since).order_by("-at")

    def forget_before(self, when: datetime) -> int:
        """Delete the rows older than ``when``; return how many."""
        deleted, _ = self.filter(at__lt=when).delete()
        return deleted
