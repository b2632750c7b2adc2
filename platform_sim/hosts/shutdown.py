"""Stop an instance's programs before its supervisord: the front (nginx) first, then all the
others at once, each with its own stop signal and deadline, as supervisord would.

supervisord, asked to exit, stops its programs one after another and looks again only once a
second; stopped through its control channel, the slow ones (Celery's warm shutdown, gunicorn's
graceful one) overlap. The front goes first so that no request reaches a stopped backend.
"""

from __future__ import annotations

import http.client
import time
import xmlrpc.client
from collections.abc import Callable
from typing import Protocol

STILL_UP = frozenset(["STARTING", "RUNNING", "BACKOFF", "STOPPING"])
POLL = 0.05
UNREACHABLE = (OSError, http.client.HTTPException, xmlrpc.client.Error)


class Programs(Protocol):
    """The part of supervisord's control channel a shutdown needs."""

    def states(self) -> dict[str, dict]:
        """Every program's process info, by program name."""

    def stop_soon(self, namespec: str) -> None:
        """Ask supervisord to stop one program, without waiting for it."""


def up(programs: Programs, names: set[str] | None = None) -> list[str]:
    """``group:name`` of the programs (among ``names``, default all) that still run."""
    return [
        f"{info['group']}:{name}"
        for name, info in programs.states().items()
        if info["statename"] in STILL_UP and (names is None or name in names)
    ]


def stop_programs(
    programs: Programs,
    front: set[str],
    timeout: float,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Stop ``front`` then every other program; whether all stopped within ``timeout``.

    An unreachable supervisord is False at once: the caller stops the instance as a whole.
    """
    deadline = clock() + timeout
    try:
        for names in (front, None):
            for namespec in up(programs, names):
                programs.stop_soon(namespec)
            while up(programs, names):
                if clock() >= deadline:
                    return False
                sleep(POLL)
    except UNREACHABLE:
        return False
    return True
