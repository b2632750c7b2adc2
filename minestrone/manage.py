#!/usr/bin/env python
"""Django's command-line utility, run from the repository root as `python minestrone/manage.py`."""

import os
import sys
from pathlib import Path


def main() -> None:
    """Put the repository root first on sys.path, then hand over to Django."""
    here = Path(__file__).resolve().parent
    # `python minestrone/manage.py` puts minestrone/ on sys.path; the project imports as
    # `minestrone.*`, so the repository root must be there instead.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    sys.path.insert(0, str(here.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minestrone.settings")
    from django.core.management import execute_from_command_line

    from minestrone.startup import load_settings

    load_settings("manage.py")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
