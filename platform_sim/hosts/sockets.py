"""Processes of an instance's PID namespace seen from this machine: the host pid of a pid
inside it, and whether a process holds an established TCP connection (it got through its
start: imports, configuration, and reached a server, as a Celery worker reaches its broker)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from platform_sim.hosts.processes import descendants

ESTABLISHED = "01"  # the state column of /proc/net/tcp
TABLES = ("tcp", "tcp6")


def status_field(pid: int, name: str) -> str:
    """One field of ``/proc/PID/status`` (``PPid``, ``NSpid``…)."""
    text = Path(f"/proc/{pid}/status").read_text()
    return text.split(f"{name}:", 1)[1].split("\n", 1)[0].strip()


def host_pid(root: int, inside: int) -> int | None:
    """The pid this machine sees for the process ``inside`` names in ``root``'s PID namespace."""
    for pid in descendants(root):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(status_field(pid, "NSpid").split()[-1]) == inside:
                return pid
    return None


def socket_inodes(pid: int) -> set[str]:
    """The inodes of the sockets ``pid`` has open."""
    found = set()
    folder = f"/proc/{pid}/fd"
    with contextlib.suppress(OSError):
        for name in os.listdir(folder):
            with contextlib.suppress(OSError):
                target = os.readlink(f"{folder}/{name}")
                if target.startswith("socket:["):
                    found.add(target[8:-1])
    return found


def established_inodes(pid: int) -> set[str]:
    """The inodes of the established TCP connections of ``pid``'s network namespace."""
    found = set()
    for table in TABLES:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
                fields = line.split()
                if len(fields) > 9 and fields[3] == ESTABLISHED:
                    found.add(fields[9])
    return found


def connected(pid: int) -> bool:
    """Whether process ``pid`` holds an established TCP connection."""
    mine = socket_inodes(pid)
    return bool(mine) and bool(mine & established_inodes(pid))


class Reached:
    """Whether a program, by its pid inside an instance, holds an established TCP connection."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.pids: dict[int, int | None] = {}

    def __call__(self, inside: int) -> bool:
        """Look the program's process up (once) and at its connections (every time)."""
        if self.pids.get(inside) is None:
            self.pids[inside] = host_pid(self.root, inside)
        pid = self.pids[inside]
        return pid is not None and connected(pid)
