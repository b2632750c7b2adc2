"""API tokens: per user, shown once when issued, stored as a SHA-256 hash only."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

# What every token starts with, so that a leaked one is recognisable (secret scanners, logs).
PREFIX = "msk_"


def digest(token: str) -> str:
    """The stored form of a token: its SHA-256 in hex (tokens are random, 256 bits: no salt or
    slow hash is needed to keep them from being guessed back)."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    """Issue tokens and find the one a request presents."""

    def issue(self, user, name: str = "", read_only: bool = False) -> tuple[ApiToken, str]:
        """Create a token for `user`; return the row and the token itself (never stored)."""
        token = PREFIX + secrets.token_urlsafe(32)
        row = self.create(user=user, name=name, read_only=read_only, key_hash=digest(token))
        return row, token

    def find(self, token: str) -> ApiToken | None:
        """The live token row whose hash matches, with its user; None if unknown or revoked."""
        if not token.startswith(PREFIX) or len(token) > 200:
            return None
        row = (
            self.select_related("user").filter(key_hash=digest(token), revoked__isnull=True).first()
        )
        return row


class ApiToken(models.Model):
    """A bearer token of one user; read-only tokens cannot act on tasks or workers."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True, default="", help_text="What it is for.")
    key_hash = models.CharField("SHA-256 of the token", max_length=64, unique=True, editable=False)
    read_only = models.BooleanField(
        default=False, help_text="Can only read: every POST endpoint refuses it."
    )
    created = models.DateTimeField(default=timezone.now, editable=False)
    last_used = models.DateTimeField(null=True, blank=True, editable=False)
    revoked = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        """Newest first."""

        app_label = "monitor"
        verbose_name = "API token"
        verbose_name_plural = "API tokens"
        ordering = ["-created"]

    def __str__(self) -> str:
        label = self.name or f"token {self.pk}"
        return f"{label} of {self.user}" + (" (read-only)" if self.read_only else "")

    @property
    def active(self) -> bool:
        """True until revoked."""
        return self.revoked is None

    def revoke(self, when=None) -> None:
        """Make the token refused from now on (the row stays, for the record)."""
        if self.revoked is None:
            self.revoked = when or timezone.now()
            self.save(update_fields=["revoked"])
