"""The `admin` superuser: created once, with a password never stored in the repository."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from minestrone.deployment.errors import AdminAccountError

ADMIN_USERNAME = "admin"
PASSWORD_VARIABLE = "MINESTRONE_ADMIN_PASSWORD"  # noqa: S105 - a variable name


@dataclass(frozen=True)
class AdminAccount:
    """What ensure_admin did: whether it created the user, and a password it generated."""

    username: str
    created: bool
    password_changed: bool
    generated_password: str | None


def generate_password() -> str:
    """Return a fresh random password (about 128 bits)."""
    return secrets.token_urlsafe(16)


@transaction.atomic
def ensure_admin(password: str | None, username: str = ADMIN_USERNAME) -> AdminAccount:
    """Make sure the superuser exists; set its password to `password` when one is given.

    Without a password, a new user gets a generated one (returned once); an existing user keeps
    the password it has.
    """
    if password is not None:
        try:
            validate_password(password)
        except ValidationError as exc:
            raise AdminAccountError(
                f"{PASSWORD_VARIABLE} is too weak: {' '.join(exc.messages)}"
            ) from exc
    user_model = get_user_model()
    user, created = user_model.objects.select_for_update().get_or_create(
        username=user_model.normalize_username(username),
        defaults={"is_staff": True, "is_superuser": True},
    )
    generated = generate_password() if created and password is None else None
    new_password = password if password is not None else generated
    changed = new_password is not None and (created or not user.check_password(new_password))
    if changed:
        user.set_password(new_password)
    if changed or not (user.is_staff and user.is_superuser and user.is_active):
        user.is_staff = user.is_superuser = user.is_active = True
        user.save()
    return AdminAccount(user.get_username(), created, changed, generated)


def write_secret(path: Path, text: str) -> None:
    """Write text to a file only its owner can read, replacing any older one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)


def unlock(username: str = ADMIN_USERNAME) -> int:
    """Lift every login lockout of ``username`` (from any address); return how many."""
    from axes.utils import reset

    return reset(username=username)
