#!/usr/bin/env python
"""Create the Django admin superuser `admin` after a push, idempotently.

The password comes from MINESTRONE_ADMIN_PASSWORD when set (the account is then kept in step
with it). Otherwise a new account gets a generated password, written to an owner-only file
(default: ~/data/admin-password on a platform instance) and never printed, so it stays out of
deploy logs (without a file it is shown on a terminal only); an existing account keeps its
password. `--unlock` lifts the login lockouts of the account (django-axes).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def default_password_file() -> Path | None:
    """Where the generated password goes: ~/data/admin-password when ~/data exists."""
    data = Path(os.environ.get("HOME") or Path.home()) / "data"
    return data / "admin-password" if data.is_dir() else None


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, set up Django, ensure the admin account; return an exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--password-file",
        type=lambda value: Path(value) if value else None,
        default=default_password_file(),
        help="owner-only file that receives a generated password (default: ~/data/admin-password)",
    )
    parser.add_argument(
        "--unlock",
        action="store_true",
        help="lift the account's login lockouts (too many wrong passwords), from every address",
    )
    options = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minestrone.settings")
    import django

    from minestrone.startup import configuration_errors_exit

    with configuration_errors_exit("mkadmin"):
        django.setup()
    from minestrone.deployment.admin_account import (
        ADMIN_USERNAME,
        PASSWORD_VARIABLE,
        ensure_admin,
        unlock,
        write_secret,
    )
    from minestrone.deployment.errors import AdminAccountError

    if options.unlock:
        print(f"mkadmin: unlocked {ADMIN_USERNAME!r}: {unlock(ADMIN_USERNAME)} lockout(s) lifted")
        return 0
    try:
        account = ensure_admin(os.environ.get(PASSWORD_VARIABLE) or None)
    except AdminAccountError as exc:
        print(f"mkadmin: {exc}", file=sys.stderr)
        return 2
    if account.generated_password:
        if options.password_file:
            write_secret(options.password_file, account.generated_password + "\n")
            print(f"mkadmin: created superuser {account.username!r}; its generated password is "
                  f"in {options.password_file} (mode 600)")
        elif sys.stdout.isatty():
            print(f"mkadmin: created superuser {account.username!r} with password "
                  f"{account.generated_password} (shown once)")
        else:
            print(f"mkadmin: created superuser {account.username!r}; its generated password is "
                  f"not shown outside a terminal: set {PASSWORD_VARIABLE} and run again")
    elif account.created:
        print(f"mkadmin: created superuser {account.username!r} with the password "
              f"from {PASSWORD_VARIABLE}")
    elif account.password_changed:
        print(f"mkadmin: set the password of {account.username!r} from {PASSWORD_VARIABLE}")
    else:
        print(f"mkadmin: superuser {account.username!r} already exists; password unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
