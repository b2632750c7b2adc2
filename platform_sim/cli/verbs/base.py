"""What every verb shares: the output, the context maker, the app's name, the confirmation."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from platform_sim.apps import app_paths, check_app_name
from platform_sim.context import Context, make_context
from platform_sim.output import Printer
from platform_sim.release.redeploy import RedeployReport


def app_name(args: argparse.Namespace, folder: Path | None = None) -> str:
    """-A/--app, else the name of the pushed folder (or of the current one)."""
    if args.app:
        return check_app_name(args.app)
    return check_app_name((folder or Path.cwd()).resolve().name)


class Verbs:
    """The state of one command-line run that each verb's handler uses."""

    def __init__(
        self,
        out: TextIO,
        make: Callable[..., Context] = make_context,
        environ: dict[str, str] | None = None,
    ) -> None:
        self.out = out
        self.make = make
        self.environ = dict(os.environ if environ is None else environ)
        self.printer = Printer(out)

    def context(self, name: str) -> Context:
        """The collaborators for application ``name``."""
        return self.make(app_paths(name, self.environ), self.printer)

    def _redeployed(self, report: RedeployReport | None, stored: str = "") -> None:
        """After a change: the redeploy printed its steps; a change only stored says so."""
        if report is None and stored:
            self.out.write(f"{stored}; the app was never pushed: they apply at its first push\n")


def word(value: str | list | None) -> str | None:
    """An option's value as typed: argparse turns a value of ``--`` into an empty list."""
    return "--" if isinstance(value, list) else value


def confirm(question: str) -> bool:
    """Ask on a terminal; anything but yes (or no terminal) is no."""
    if not sys.stdin.isatty():
        return False
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
