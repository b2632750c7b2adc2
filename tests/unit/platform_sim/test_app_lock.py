"""One platform_sim command changes an app at a time: a second is refused in one line."""

from __future__ import annotations

import pytest

from platform_sim.apps import app_paths, locked
from platform_sim.errors import UsageError


def test_a_second_command_is_refused_while_the_first_holds_the_app(tmp_path):
    paths = app_paths("soup", {"PLATFORM_SIM_HOME": str(tmp_path)})
    refused = pytest.raises(UsageError, match=r"^another platform_sim command is changing 'soup'")
    with locked(paths), refused, locked(paths, wait=0.3):
        pass
    with locked(paths):  # free again once the first is done
        pass
