"""The platform's WSGI entry point: the server loads `application` from this file."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minestrone.settings")

from minestrone.wsgi import application  # noqa: E402

__all__ = ["application"]
