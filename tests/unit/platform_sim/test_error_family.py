"""platform_sim's errors are one family: each is a PlatformError, named for what it means."""

import pytest

from platform_sim.containers.entry import EntryError
from platform_sim.errors import NeverReady, NotReadyYet, PlatformError


@pytest.mark.parametrize("error", [EntryError, NeverReady, NotReadyYet])
def test_every_error_is_a_platform_error(error):
    assert issubclass(error, PlatformError)
    assert str(error("one line")) == "one line"


def test_not_ready_yet_is_an_os_error_so_a_waiting_loop_tries_again():
    assert issubclass(NotReadyYet, OSError)
    assert not issubclass(NeverReady, OSError)
