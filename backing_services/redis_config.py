"""The configuration file of a Redis server living in a directory we own, rendered as text."""

import hashlib
import re
from pathlib import Path

from .ports import LOOPBACK

# "always": every write is on disk before Redis answers it, so a job Celery was told is
# published survives a crash of Redis; "everysec" may lose the last second of writes.
APPENDFSYNC = ("always", "everysec")
DATABASES = 64  # database numbers handed out one per test module (RedisService.claim_db)
_SAFE = re.compile(r"[^\s\"'\\]+")


def _value(name: str, value: str) -> str:
    if not _SAFE.fullmatch(value):
        raise ValueError(f"unusable Redis {name}: {value!r}")
    return value


def password_hash(password: str) -> str:
    """The SHA-256 hex digest Redis's ACL rules take (``#<hash>``) for a password."""
    if not password:
        raise ValueError("a Redis password cannot be empty (the default user would be open)")
    return hashlib.sha256(password.encode()).hexdigest()


def render_config(
    directory: Path,
    port: int,
    password: str,
    *,
    host: str = LOOPBACK,
    appendfsync: str = "always",
) -> str:
    """``redis.conf`` for a server on ``host:port`` keeping its data in ``directory``.

    The default user needs ``password`` (only its hash is written); the data is an append-only
    file synced as ``appendfsync`` says; no snapshots.
    """
    if appendfsync not in APPENDFSYNC:
        raise ValueError(f"appendfsync must be one of {', '.join(APPENDFSYNC)}: {appendfsync!r}")
    lines = [
        f"bind {_value('address', host)}",
        f"port {int(port)}",
        "protected-mode yes",
        "daemonize no",
        'logfile ""',
        f"dir {_value('directory', str(directory))}",
        f"databases {DATABASES}",
        # the default user: every key, channel and command, but only with the password (a user
        # line replaces Redis's open default, which would need no password)
        f"user default on #{password_hash(password)} ~* &* +@all",
        "appendonly yes",
        f"appendfsync {appendfsync}",
        'save ""',
        "enable-debug-command no",
        "enable-module-command no",
    ]
    return "\n".join(lines) + "\n"
