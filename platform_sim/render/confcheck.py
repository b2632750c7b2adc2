"""Check an instance's supervisord configuration: ``python -m platform_sim.render.confcheck CONF``.

Run inside the instance's namespaces (so /home/dotcloud and ~/env/bin resolve as they will for
supervisord); prints one line per problem and exits 1 if there is any.
"""

from __future__ import annotations

import os
import sys

from platform_sim.render.supervisor import check_config


def main(argv: list[str] | None = None) -> int:
    """Check the configuration file named on the command line; return an exit status."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m platform_sim.render.confcheck SUPERVISORD.CONF", file=sys.stderr)
        return 2
    problems = check_config(args[0], os.environ)
    for problem in problems:
        print(f"supervisor: {problem}")
    if not problems:
        print("supervisor: configuration parses; every program's command resolves")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
