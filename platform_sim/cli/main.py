"""The command line: ``python -m platform_sim [-A APP] COMMAND …``, a thin layer over the library.

The parser is in ``parser``, each verb's handler in ``commands``; here a command is dispatched
to its handler. Every error of the library is a PlatformError; ``main`` turns it into one
message line (plus details such as the tail of a failed step's output) and an exit status, in
this one place.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import TextIO

from backing_services.errors import ServiceError
from platform_sim.builder.steps import kill_live_steps
from platform_sim.cli.parser import ALIASES, PROG, build_parser
from platform_sim.cli.verbs import Commands, app_name
from platform_sim.context import Context, make_context
from platform_sim.errors import PlatformError, one_line

__all__ = ["Commands", "app_name", "build_parser", "main"]

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived: handled exactly as Ctrl-C is (cleanup, then exit)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _terminate(signum: int, frame: object) -> None:
    """Signal handler: interrupt the command (once; the cleanup must not be cut short)."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    raise Terminated(signum)


@contextlib.contextmanager
def stop_signals_interrupt() -> Iterator[None]:
    """While the command runs, SIGTERM and SIGHUP interrupt it as Ctrl-C does."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _terminate) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(
    argv: list[str] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    make: Callable[..., Context] = make_context,
) -> int:
    """Run one command; every library error becomes a message and an exit status here."""
    out = out or sys.stdout
    err = err or sys.stderr
    args = build_parser().parse_args(argv)
    commands = Commands(out, make)
    try:
        with stop_signals_interrupt():
            method = ALIASES.get(args.command, args.command).replace("-", "_")
            return getattr(commands, method)(args)
    except PlatformError as exc:
        err.write(f"{PROG}: error: {one_line(str(exc))}\n")
        if exc.details:
            err.write("".join(f"    {line}\n" for line in exc.details.splitlines()))
        return exc.exit_code
    except ServiceError as exc:
        err.write(f"{PROG}: error: {one_line(str(exc))}\n")
        return 6
    except KeyboardInterrupt as exc:
        kill_live_steps()
        signum = getattr(exc, "signum", signal.SIGINT)
        err.write(f"{PROG}: interrupted by {signal.Signals(signum).name}\n")
        return 128 + signum
    except BrokenPipeError:
        # The reader went away (``logs | head``): stop quietly, as other commands do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
