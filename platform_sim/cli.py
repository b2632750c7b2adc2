"""The command line: ``python -m platform_sim [-A APP] COMMAND …``, a thin layer over the library.

Every error of the library is a PlatformError; ``main`` turns it into one message line (plus
details such as the tail of a failed step's output) and an exit status, in this one place.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from backing_services.errors import ServiceError

from . import __version__, info, variables
from .context import Context, make_context
from .destroy import destroy
from .errors import PlatformError, UsageError
from .output import Printer
from .push import push
from .state import app_paths, check_app_name, existing
from .verify import verify

PROG = "platform_sim"
EPILOG = (
    "State lives under $PLATFORM_SIM_HOME (default ~/.platform_sim), one folder per "
    "application. Run as root: instances get private mount and PID namespaces."
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: global -A/--app, then one sub-command each with its own --help."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="The dotCloud platform on one machine: push, inspect and destroy apps.",
        epilog=EPILOG,
    )
    parser.add_argument("-A", "--app", help="application name (default: the folder's name)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    cmd = commands.add_parser(
        "push",
        help="upload, build and deploy a folder",
        description="Upload PATH, build its code services, deploy them "
        "beside the running version, then switch traffic to them.",
    )
    cmd.add_argument("path", nargs="?", default=".", help="folder holding dotcloud.yml (default .)")
    cmd.add_argument("--clean", action="store_true", help="rebuild virtualenvs from scratch")

    cmd = commands.add_parser(
        "info",
        help="services, instances, URLs, ports, credentials",
        description="Describe the application or one of its services.",
    )
    cmd.add_argument("service", nargs="?", metavar="SVC", help="only this service")
    cmd.add_argument("--json", action="store_true", help="print JSON, for scripts")

    cmd = commands.add_parser(
        "destroy",
        help="stop every process and delete the application",
        description="Stop all processes of the application (instances, "
        "router, data services) and delete its state and data.",
    )
    cmd.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")

    cmd = commands.add_parser(
        "verify",
        help="rehearse a deploy's hooks in a throw-away copy (CI)",
        description="Parse, build, run every service's postinstall against "
        "fresh data services, check the supervisor configuration; remove "
        "everything afterwards. Exit status 1 if a service fails.",
    )
    cmd.add_argument("path", nargs="?", default=".", help="folder holding dotcloud.yml (default .)")
    cmd.add_argument(
        "-e",
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an application variable for the rehearsal (repeatable)",
    )

    addon = commands.add_parser(
        "addon",
        help="manage add-ons (cloudamqp)",
        description="Add, list or remove add-ons; their credentials "
        "become application variables at the next push.",
    )
    actions = addon.add_subparsers(dest="action", metavar="ACTION", required=True)
    cmd = actions.add_parser("add", help="provision an add-on", description="Provision an add-on.")
    cmd.add_argument("name", metavar="NAME", help="cloudamqp")
    actions.add_parser("list", help="list add-ons", description="List the add-ons.")
    cmd = actions.add_parser(
        "remove",
        help="remove an add-on and its data",
        description="Stop an add-on and delete its data.",
    )
    cmd.add_argument("name", metavar="NAME", help="cloudamqp")

    env = commands.add_parser(
        "env",
        help="application variables",
        description="List, set or unset application variables; they apply at the next push.",
    )
    actions = env.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="list the variables", description="List the variables.")
    cmd = actions.add_parser("set", help="set variables", description="Set NAME=value pairs.")
    cmd.add_argument("pairs", nargs="+", metavar="NAME=VALUE")
    cmd = actions.add_parser("unset", help="remove variables", description="Remove variables.")
    cmd.add_argument("names", nargs="+", metavar="NAME")
    return parser


def app_name(args: argparse.Namespace, folder: Path | None = None) -> str:
    """-A/--app, else the name of the pushed folder (or of the current one)."""
    if args.app:
        return check_app_name(args.app)
    return check_app_name((folder or Path.cwd()).resolve().name)


class Commands:
    """One method per command; each calls the library and prints its result."""

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

    def push(self, args: argparse.Namespace) -> int:
        """``push [PATH] [--clean]``."""
        folder = Path(args.path)
        push(self.context(app_name(args, folder)), folder, clean=args.clean)
        return 0

    def info(self, args: argparse.Namespace) -> int:
        """``info [SVC] [--json]``."""
        described = info.describe(self.context(app_name(args)), args.service)
        self.out.write((info.as_json if args.json else info.as_text)(described) + "\n")
        return 0

    def destroy(self, args: argparse.Namespace) -> int:
        """``destroy [-y]``."""
        ctx = self.context(app_name(args))
        existing(ctx.paths)
        if not args.yes and not _confirm(f"Destroy application {ctx.paths.name!r} and its data?"):
            raise UsageError("not destroyed (pass -y to skip the question)")
        stopped = destroy(ctx)
        self.out.write(
            f"Destroyed {ctx.paths.name!r}: {stopped} process tree(s) stopped, "
            f"{ctx.paths.root} removed\n"
        )
        return 0

    def verify(self, args: argparse.Namespace) -> int:
        """``verify [PATH]``: exit status 1 if any service fails."""
        folder = Path(args.path)
        name = app_name(args, folder)
        values = variables.parse_assignments(args.env)
        known, addon_names = {}, []
        try:
            record = existing(app_paths(name, self.environ))
            known, addon_names = dict(record.variables), list(record.addons)
        except PlatformError:
            pass
        results = verify(
            folder,
            name,
            self.printer,
            lambda p, o: self.make(p, o),
            variables={**known, **values},
            addon_names=addon_names,
        )
        for result in results:
            status = "ok" if result.ok else "FAILED"
            self.out.write(f"verify [{result.service}] {status}: {result.message}\n")
            if result.details and not result.ok:
                self.out.write("".join(f"    {line}\n" for line in result.details.splitlines()))
        return 0 if all(result.ok for result in results) else 1

    def addon(self, args: argparse.Namespace) -> int:
        """``addon add|list|remove``."""
        ctx = self.context(app_name(args))
        if args.action == "add":
            values = variables.add_addon(ctx, args.name)
            self.out.write(f"Added {args.name}; application variables (at the next push):\n")
            self.out.write("".join(f"  {key}={value}\n" for key, value in sorted(values.items())))
        elif args.action == "remove":
            variables.remove_addon(ctx, args.name)
            self.out.write(f"Removed {args.name} (its variables go at the next push)\n")
        else:
            for name, entry in variables.list_addons(ctx).items():
                self.out.write(f"{name}: {entry['status']} (login {entry['login']})\n")
        return 0

    def env(self, args: argparse.Namespace) -> int:
        """``env list|set|unset``."""
        ctx = self.context(app_name(args))
        if args.action == "set":
            variables.set_variables(ctx, variables.parse_assignments(args.pairs))
            self.out.write("Variables set; they apply at the next push\n")
        elif args.action == "unset":
            variables.unset_variables(ctx, args.names)
            self.out.write("Variables removed; they go at the next push\n")
        else:
            for key, value in sorted(variables.list_variables(ctx).items()):
                self.out.write(f"{key}={value}\n")
        return 0


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        return False
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


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
        return getattr(commands, args.command)(args)
    except PlatformError as exc:
        err.write(f"{PROG}: error: {exc}\n")
        if exc.details:
            err.write("".join(f"    {line}\n" for line in exc.details.splitlines()))
        return exc.exit_code
    except ServiceError as exc:
        err.write(f"{PROG}: error: {exc}\n")
        return 6
    except KeyboardInterrupt:
        err.write(f"{PROG}: interrupted\n")
        return 130
