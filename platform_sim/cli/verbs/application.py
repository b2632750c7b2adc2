"""The verbs about the whole application: push, info, url, status, destroy, verify."""

from __future__ import annotations

import argparse
from pathlib import Path

from platform_sim.apps import app_paths, existing
from platform_sim.cli.verbs.base import Verbs, app_name, confirm
from platform_sim.errors import PlatformError, UsageError
from platform_sim.ops import info, info_table, status, variables
from platform_sim.release.destroy import destroy, destroy_service
from platform_sim.release.push import push
from platform_sim.release.targets import current
from platform_sim.release.verify import verify


class ApplicationVerbs(Verbs):
    """Push, describe, check and destroy an application."""

    def push(self, args: argparse.Namespace) -> int:
        """``push [PATH] [--clean]``."""
        folder = Path(args.path)
        push(self.context(app_name(args, folder)), folder, clean=args.clean)
        return 0

    def info(self, args: argparse.Namespace) -> int:
        """``info [SVC] [--json]``."""
        described = info.describe(self.context(app_name(args)), args.service)
        self.out.write((info.as_json if args.json else info_table.as_text)(described) + "\n")
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

    def destroy(self, args: argparse.Namespace) -> int:
        """``destroy [SVC] [-y]``."""
        ctx = self.context(app_name(args))
        current(ctx.paths) if args.service else existing(ctx.paths)
        what = f"service {args.service} of" if args.service else "application"
        if not args.yes and not confirm(f"Destroy {what} {ctx.paths.name!r} and its data?"):
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
        values = variables.given_assignments(args.env, args.env_file)
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
