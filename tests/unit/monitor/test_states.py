"""The order of observations: finished beats active beats pending; active states by time."""

import pytest

from minestrone.monitor.states import progress

T = 1_700_000_000.0


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        (("PENDING", T + 100), ("RECEIVED", T)),
        (("PENDING", T + 100), ("STARTED", T)),
        (("RECEIVED", T), ("STARTED", T)),  # same millisecond: STARTED is further
        (("STARTED", T), ("RETRY", T)),
        (("RETRY", T), ("RECEIVED", T + 1)),  # a retried task received again
        (("STARTED", T + 100), ("SUCCESS", T)),
        (("RETRY", T + 100), ("FAILURE", T)),
        (("STARTED", T + 100), ("REVOKED", T)),
        (("REVOKED", T + 5), ("FAILURE", T)),
        (("FAILURE", T + 5), ("SUCCESS", T)),
        (("PROGRESS", T), ("STARTED", T)),  # custom states rank with REJECTED
        (("RECEIVED", T), ("PROGRESS", T)),
    ],
)
def test_order(lower, higher):
    assert progress(*lower) < progress(*higher)


def test_pending_observations_tie():
    assert progress("PENDING", T) == progress("PENDING", T + 10)


def test_active_progress_stays_below_finished_even_far_in_the_future():
    assert progress("RETRY", 253402300799.0) < progress("REVOKED", 0)
