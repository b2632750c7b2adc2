"""Run a command in private mount and PID namespaces (``unshare``), with bind mounts.

Each instance sees its own home at /home/dotcloud and its own /var/log/supervisor, and has its
own host name (as each container had: Celery names its workers after it); everything it starts
lives in its PID namespace, so stopping its first process stops them all.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from collections.abc import Sequence

from platform_sim.errors import HostError

_HOSTNAME_INVALID = re.compile(r"[^a-z0-9-]+")


def host_name(*parts: object) -> str:
    """A valid host name (at most 63 characters) from parts such as app, service, instance."""
    name = _HOSTNAME_INVALID.sub("-", "-".join(str(part) for part in parts).lower()).strip("-")
    return name[-63:].lstrip("-") or "instance"


UNSHARE_OPTIONS = (
    "--mount",
    "--propagation",
    "private",
    "--pid",
    "--fork",
    "--kill-child",
    "--mount-proc",
)


def unshare_binary() -> str:
    """The ``unshare`` program of util-linux (a HostError names what is missing)."""
    found = shutil.which("unshare", path=os.environ.get("PATH", "") + ":/usr/bin:/bin")
    if found is None:
        raise HostError("unshare (util-linux) is not installed: apt-get install util-linux")
    return found


def check_privileges(euid: int | None = None) -> None:
    """Namespaces and bind mounts need root: refuse early, saying so."""
    if (os.geteuid() if euid is None else euid) != 0:
        raise HostError(
            "platform_sim must run as root: each instance gets private mount and PID namespaces "
            "(its own /home/dotcloud and /var/log/supervisor), which only root can create"
        )


def script(
    binds: Sequence[tuple[str, str]],
    tmpfs: Sequence[str] = (),
    cwd: str | None = None,
    hostname: str | None = None,
) -> str:
    """The shell script that mounts, names the host, changes directory, execs "$@"."""
    lines = ["set -e"]
    if hostname:
        lines.append(f"echo {shlex.quote(hostname)} > /proc/sys/kernel/hostname")
    for target in tmpfs:
        quoted = shlex.quote(target)
        lines.append(f"mkdir -p {quoted}")
        lines.append(f"mount -t tmpfs -o mode=0755,size=4m platform_sim {quoted}")
    for source, target in binds:
        lines.append(f"mkdir -p {shlex.quote(target)}")
        lines.append(f"mount --bind {shlex.quote(source)} {shlex.quote(target)}")
    if cwd:
        lines.append(f"cd {shlex.quote(cwd)}")
    lines.append('exec "$@"')
    return "; ".join(lines)


def wrap(
    argv: Sequence[str],
    *,
    binds: Sequence[tuple[str, str]] = (),
    tmpfs: Sequence[str] = (),
    cwd: str | None = None,
    hostname: str | None = None,
    unshare: str = "unshare",
    netns: str | None = None,
    ip: str = "ip",
) -> list[str]:
    """The command line running ``argv`` in new namespaces (UTS too, given a host name), inside
    the network namespace ``netns`` when given."""
    return [
        *([ip, "netns", "exec", netns] if netns else []),
        unshare,
        *UNSHARE_OPTIONS,
        *(["--uts"] if hostname else []),
        "--",
        "/bin/sh",
        "-c",
        script(binds, tmpfs, cwd, hostname),
        "platform_sim",
        *argv,
    ]
