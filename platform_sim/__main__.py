"""``python -m platform_sim``: run the command line."""

import sys

from .cli import main

sys.exit(main())
