"""``run SVC[.N] [CMD…]``: a command in an instance, as its own processes run (what ssh was)."""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterator, Sequence

from platform_sim.context import Context
from platform_sim.errors import HostError
from platform_sim.hosts import namespace
from platform_sim.hosts.instance import stored_environment
from platform_sim.release.targets import current, parse_ref

# The command runs as a child of a shell that stays the namespace's first process: a first
# process ignores signals it has no handler for, and Ctrl-C must reach the command.
AS_CHILD = ["/bin/sh", "-c", '"$@"; exit $?', "run"]


def default_shell() -> list[str]:
    """An interactive shell when no command is given."""
    return ["/bin/bash"] if shutil.which("bash") else ["/bin/sh"]


@contextlib.contextmanager
def ignoring_interrupts() -> Iterator[None]:
    """Let Ctrl-C go to the command only; we wait for its exit status."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run(
    ctx: Context,
    target: str,
    command: Sequence[str],
    *,
    call: Callable[..., int] = subprocess.call,
) -> int:
    """Run ``command`` in the instance ``target`` names; return its exit status."""
    namespace.check_privileges()
    ref = parse_ref(target)
    instance = current(ctx.paths).one_instance(ref, "run")
    if not instance.home.is_dir():
        raise HostError(f"the home of {instance.label} ({instance.home}) is gone: push again")
    argv = ctx.runner.wrap(instance, [*AS_CHILD, *(command or default_shell())])
    with ignoring_interrupts():
        return call(argv, env=stored_environment(instance), cwd=instance.home)
