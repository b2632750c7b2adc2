"""Run one of the platform's modules apart from the app: ``python -I …/isolated.py MODULE ARG…``.

``python -m`` puts the current folder first on ``sys.path`` and honours ``PYTHONPATH``,
``PYTHONHOME`` and ``PYTHONUSERBASE``; the platform's programs run in an app's code folder with
an environment the app may set, so a ``platform_sim/``, ``json.py`` or ``yaml.py`` of the app's
would be imported in their place. Under ``-I`` none of those counts: this file (run as a script,
stdlib only) puts the folder holding the platform's own ``platform_sim`` first and runs the module
as ``-m`` would.
"""

from __future__ import annotations

import os
import runpy
import sys

LAUNCHER = os.path.realpath(__file__)
ROOT = os.path.dirname(os.path.dirname(LAUNCHER))  # the folder holding platform_sim


def command(python: str, module: str, *args: str, launcher: str = LAUNCHER) -> list[str]:
    """The command line running the platform's ``module`` with ``args``, isolated (and
    unbuffered: ``-I`` ignores PYTHONUNBUFFERED, and these programs' output is their log)."""
    return [python, "-I", "-u", launcher, module, *args]


def main() -> None:
    """Run the module named first on the command line with the arguments that follow."""
    if len(sys.argv) < 2:
        sys.exit("usage: python -I isolated.py MODULE [ARG…]")
    sys.path.insert(0, ROOT)
    module = sys.argv.pop(1)
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
