"""The unprivileged account that runs a server refusing root, and whether it reaches its files."""

import os
import pwd
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import ServiceError


@dataclass(frozen=True)
class Account:
    """A system account: name, user id, primary and supplementary group ids."""

    name: str
    uid: int
    gid: int
    groups: tuple[int, ...] = ()

    @classmethod
    def from_name(cls, name: str) -> "Account":
        """Look the account up in the password database (KeyError when absent)."""
        entry = pwd.getpwnam(name)
        return cls(name, entry.pw_uid, entry.pw_gid, tuple(os.getgrouplist(name, entry.pw_gid)))


def unprivileged_account(
    candidates: Sequence[str] = ("postgres", "nobody"),
    *,
    euid: int | None = None,
    lookup: Callable[[str], Account] = Account.from_name,
) -> Account | None:
    """The account to run as: None unless we are root, else the first candidate that exists."""
    if (os.geteuid() if euid is None else euid) != 0:
        return None
    for name in candidates:
        try:
            return lookup(name)
        except KeyError:
            continue
    raise ServiceError(
        f"running as root, and none of the accounts {', '.join(candidates)} exists to run the "
        "server as; create one (useradd --system postgres) or run as an ordinary user"
    )


def can_traverse(info: os.stat_result, account: Account) -> bool:
    """Whether ``account`` may enter a directory with this owner and mode."""
    if account.uid == 0:
        return True
    if info.st_uid == account.uid:
        return bool(info.st_mode & stat.S_IXUSR)
    if info.st_gid == account.gid or info.st_gid in account.groups:
        return bool(info.st_mode & stat.S_IXGRP)
    return bool(info.st_mode & stat.S_IXOTH)


def check_traversable(
    directory: Path, account: Account, stat_path: Callable[[Path], os.stat_result] = os.stat
) -> None:
    """Raise ServiceError naming the first parent of ``directory`` that ``account`` cannot enter."""
    for parent in reversed(Path(directory).absolute().parents):
        info = stat_path(parent)
        if not can_traverse(info, account):
            raise ServiceError(
                f"the server runs as {account.name!r}, which cannot enter {parent} "
                f"(owner uid {info.st_uid}, mode {stat.filemode(info.st_mode)}), so it cannot "
                f"reach {directory}. Put the data directory somewhere {account.name!r} can reach "
                f"(e.g. under /var/tmp or /srv), or allow it: chmod o+x {parent}"
            )


def hand_over(path: Path, account: Account | None) -> None:
    """Give ``path`` to ``account`` (nothing to do when we run as ourselves)."""
    if account is not None:
        os.chown(path, account.uid, account.gid)
