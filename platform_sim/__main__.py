"""``python -m platform_sim``: run the command line."""

import sys

from platform_sim.cli.main import main

sys.exit(main())
