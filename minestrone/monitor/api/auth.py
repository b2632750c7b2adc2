"""Who is calling: a bearer token's owner, or the logged-in user (whose unsafe requests must
carry the CSRF token, as the admin's forms do)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.middleware.csrf import CsrfViewMiddleware
from django.utils import timezone

from minestrone.monitor.api.errors import Forbidden, NotAuthenticated
from minestrone.monitor.api.tokens import ApiToken

# A token's last use is written at most this often (not on every request).
LAST_USED_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Caller:
    """The user behind a request, and the token it came with (None: a session)."""

    user: object
    token: ApiToken | None = None

    @property
    def read_only(self) -> bool:
        """True for a read-only token."""
        return self.token is not None and self.token.read_only

    @property
    def who(self) -> str:
        """How actions are signed: "alice (API token 3)", or "alice" for a session."""
        name = self.user.get_username()
        return f"{name} (API token {self.token.pk})" if self.token is not None else name

    @property
    def throttle_key(self) -> str:
        """What the throttle counts requests of: the token, or the session's user."""
        return f"token-{self.token.pk}" if self.token is not None else f"user-{self.user.pk}"


def _csrf_failure(request) -> str | None:
    """Why Django's CSRF check refuses this request, or None when it passes."""
    check = CsrfViewMiddleware(lambda req: None)
    check.process_request(request)
    refused = check.process_view(request, None, (), {})
    return None if refused is None else "CSRF check failed: send the X-CSRFToken header"


def authenticate(request) -> Caller:
    """The caller, or NotAuthenticated (401) / Forbidden (403) saying what is wrong."""
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("send Authorization: Bearer <token>")
        row = ApiToken.objects.find(token.strip())
        if row is None or not row.user.is_active:
            raise NotAuthenticated("unknown or revoked token")
        now = timezone.now()
        if row.last_used is None or now - row.last_used > LAST_USED_EVERY:
            ApiToken.objects.filter(pk=row.pk).update(last_used=now)
        return Caller(row.user, row)
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        raise NotAuthenticated(
            "authentication required: send Authorization: Bearer <token>, or log in"
        )
    if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE"):
        reason = _csrf_failure(request)
        if reason:
            raise Forbidden(reason)
    return Caller(user)


def require(caller: Caller, permission: str, acts: bool) -> None:
    """Forbidden unless the caller may: an active staff user with the Django permission, as in
    the admin; and, to act, not with a read-only token."""
    user = caller.user
    if not (user.is_active and user.is_staff and user.has_perm(permission)):
        raise Forbidden(f"permission required: {permission} (as staff)")
    if acts and caller.read_only:
        raise Forbidden("this token is read-only: it cannot act on tasks or workers")
