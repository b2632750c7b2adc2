"""The verbs of day-two operations: scale, restart, logs, run, revisions, deploy."""

from __future__ import annotations

import argparse
import time

from platform_sim.cli.verbs.base import Verbs, app_name
from platform_sim.errors import UsageError
from platform_sim.ops import logs
from platform_sim.ops.restart import restart
from platform_sim.ops.run_command import run
from platform_sim.ops.scale import scale
from platform_sim.release import revisions
from platform_sim.release.targets import current


class OperationVerbs(Verbs):
    """Operate a pushed application's services and revisions."""

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
