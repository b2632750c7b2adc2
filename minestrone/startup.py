"""Start-up: a configuration error is one line on stderr and an exit status, not a traceback."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TextIO

from django.core.exceptions import ImproperlyConfigured

from minestrone.errors import one_line

# gunicorn's "App failed to load" status: the server stops instead of restarting its workers.
CONFIGURATION_ERROR = 4


@contextlib.contextmanager
def configuration_errors_exit(program: str, err: TextIO | None = None) -> Iterator[None]:
    """Inside, ImproperlyConfigured is reported as ``PROGRAM: configuration error: …`` + exit 4."""
    try:
        yield
    except ImproperlyConfigured as exc:
        stream = err or sys.stderr
        stream.write(f"{program}: configuration error: {one_line(str(exc))}\n")
        stream.flush()
        raise SystemExit(CONFIGURATION_ERROR) from None


def load_settings(program: str) -> None:
    """Read the settings now (the environment file with them), exiting on a bad configuration."""
    from django.conf import settings

    with configuration_errors_exit(program):
        settings.INSTALLED_APPS  # noqa: B018 - the access is what loads the settings
