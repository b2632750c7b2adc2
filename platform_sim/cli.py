"""The command line: ``python -m platform_sim [-A APP] COMMAND …``, a thin layer over the library.

Every error of the library is a PlatformError; ``main`` turns it into one message line (plus
details such as the tail of a failed step's output) and an exit status, in this one place.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

from backing_services.errors import ServiceError

from . import compose, images, info, infotext, logs, revisions, status, variables
from .context import Context, make_context
from .destroy import destroy, destroy_service
from .errors import PlatformError, UsageError, one_line
from .kube.export import ExportRequest, export
from .kube.local import LocalRun
from .output import Printer
from .parser import ALIASES, PROG, build_parser
from .push import push
from .redeploy import RedeployReport
from .restart import restart
from .run import run
from .runner import kill_live_steps
from .scale import scale
from .state import AppRecord, app_paths, check_app_name, existing
from .targets import current
from .verify import verify

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
        self.out.write((info.as_json if args.json else infotext.as_text)(described) + "\n")
        return 0

    def url(self, args: argparse.Namespace) -> int:
        """``url [SVC]``."""
        found = status.urls(self.context(app_name(args)), args.service)
        self.out.write("".join(f"{name}: {url}\n" for name, url in found.items()))
        if not found:
            self.out.write("(no web service)\n")
        return 0

    def status(self, args: argparse.Namespace) -> int:
        """``status [SVC[.N]]``."""
        for line in status.status(self.context(app_name(args)), args.target):
            self.out.write(f"{line}\n")
        return 0

    def scale(self, args: argparse.Namespace) -> int:
        """``scale SVC=N…``."""
        self._redeployed(scale(self.context(app_name(args)), args.assignments))
        return 0

    def restart(self, args: argparse.Namespace) -> int:
        """``restart SVC.N``."""
        seconds = restart(self.context(app_name(args)), args.target)
        self.out.write(f"{args.target} restarted and ready in {seconds:.1f} s\n")
        return 0

    def logs(self, args: argparse.Namespace) -> int:
        """``logs [SVC[.N]…] [-n N] [--no-follow]``."""
        if args.lines < 0:
            raise UsageError(f"-n {args.lines}: the number of lines cannot be negative")
        logs.logs(
            self.context(app_name(args)),
            args.targets,
            self.printer.say,
            lines=args.lines,
            follow_files=not args.no_follow,
        )
        return 0

    def run(self, args: argparse.Namespace) -> int:
        """``run SVC[.N] [CMD…]``: the command's exit status."""
        command = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
        return run(self.context(app_name(args)), args.target, command)

    def revisions(self, args: argparse.Namespace) -> int:
        """``revisions``."""
        ctx = self.context(app_name(args))
        for revision in revisions.stored(current(ctx.paths).record):
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(revision.time))
            mark = "*" if revision.current else " "
            self.out.write(
                f"{mark} {revision.number:>4}  {when}  {revision.files:>5} files  "
                f"{revision.source}\n"
            )
        return 0

    def deploy(self, args: argparse.Namespace) -> int:
        """``deploy REV|latest|previous``."""
        self._redeployed(revisions.deploy(self.context(app_name(args)), args.revision))
        return 0

    def destroy(self, args: argparse.Namespace) -> int:
        """``destroy [SVC] [-y]``."""
        ctx = self.context(app_name(args))
        current(ctx.paths) if args.service else existing(ctx.paths)
        what = f"service {args.service} of" if args.service else "application"
        if not args.yes and not _confirm(f"Destroy {what} {ctx.paths.name!r} and its data?"):
            raise UsageError("not destroyed (pass -y to skip the question)")
        if args.service:
            removed = destroy_service(ctx, args.service)
            self.out.write(
                f"Destroyed {removed}; the next push creates {args.service} again "
                "if dotcloud.yml still names it\n"
            )
            return 0
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
        """``env list|set|unset`` (also spelt ``var``)."""
        ctx = self.context(app_name(args))
        if args.action == "set":
            values = variables.parse_assignments(args.pairs)
            self._redeployed(variables.set_variables(ctx, values), "Variables set")
        elif args.action == "unset":
            self._redeployed(variables.unset_variables(ctx, args.names), "Variables removed")
        else:
            for key, value in sorted(variables.list_variables(ctx).items()):
                self.out.write(f"{key}={value}\n")
        return 0

    def image(self, args: argparse.Namespace) -> int:
        """``image build [PATH] [--base IMAGE]``: the images' names, one a line."""
        folder = Path(args.path)
        built = images.build_images(folder, app_name(args, folder), base=args.base,
                                    printer=Printer(sys.stderr))
        self.out.write("".join(f"{name}\n" for name in built.names.values()))
        return 0

    def export(self, args: argparse.Namespace) -> int:
        """``export compose [PATH] -o DIR [--force] [--port N]``: the files written."""
        if args.action == "kubernetes":
            return self._export_kubernetes(args)
        folder = Path(args.path)
        name = app_name(args, folder)
        record = AppRecord.load(app_paths(name, self.environ))
        written = compose.export_compose(
            folder,
            name,
            Path(args.output),
            force=args.force,
            port=args.port,
            variables=record.variables if record else {},
            scale=record.scale if record else {},
        )
        self.out.write("".join(f"wrote {path}\n" for path in written))
        self.out.write(
            f"Images: platform_sim -A {name} image build {args.path}; then, in {args.output}: "
            "podman-compose up -d (README, Containers)\n"
        )
        return 0

    def _export_kubernetes(self, args: argparse.Namespace) -> int:
        """``export kubernetes [PATH] -o DIR …``."""
        folder = Path(args.path)
        name = app_name(args, folder)
        record = AppRecord.load(app_paths(name, self.environ))
        known = dict(record.variables) if record else {}
        request = ExportRequest(
            folder=folder,
            out=Path(args.output),
            namespace=_word(args.namespace),
            image_prefix=_word(args.image_prefix),
            tag=_word(args.tag),
            storage_class=_word(args.storage_class),
            host=_word(args.host),
            tls_secret=_word(args.tls_secret),
            externals=tuple(_word(value) for value in args.external),
            variables={**known, **variables.parse_assignments([_word(v) for v in args.env])},
            scale=dict(record.scale) if record else {},
        )
        written = export(name, request)
        self.out.write("".join(f"wrote {path}\n" for path in written))
        self.out.write(f"apply them with: kubectl apply -f {args.output}\n")
        return 0

    def kube_play(self, args: argparse.Namespace) -> int:
        """``kube-play up|down DIR``: the export run by Podman on this machine."""
        run = LocalRun(Path(args.folder), say=self.printer.say)
        if args.action == "down":
            removed = run.down()
            self.out.write(f"Removed {len(removed)} object(s): {', '.join(removed)}\n")
            return 0
        url = run.up(args.port)
        self.out.write(f"{url}\n")
        return 0

    def _redeployed(self, report: RedeployReport | None, stored: str = "") -> None:
        """After a change: the redeploy printed its steps; a change only stored says so."""
        if report is None and stored:
            self.out.write(f"{stored}; the app was never pushed: they apply at its first push\n")


def _word(value: str | list | None) -> str | None:
    """An option's value as typed: argparse turns a value of ``--`` into an empty list."""
    return "--" if isinstance(value, list) else value


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
