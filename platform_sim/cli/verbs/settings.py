"""The verbs of an application's settings: add-ons and environment variables."""

from __future__ import annotations

import argparse

from platform_sim.cli.verbs.base import Verbs, app_name
from platform_sim.errors import UsageError
from platform_sim.ops import variables


class SettingVerbs(Verbs):
    """Change an application's add-ons and variables."""

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
            if args.from_file is not None:
                values.update(variables.read_assignments(args.from_file))
            if not values:
                raise UsageError("env set needs NAME=VALUE words or --from-file FILE")
            self._redeployed(variables.set_variables(ctx, values), "Variables set")
        elif args.action == "unset":
            self._redeployed(variables.unset_variables(ctx, args.names), "Variables removed")
        else:
            for key, value in sorted(variables.list_variables(ctx).items()):
                self.out.write(f"{key}={value}\n")
        return 0
