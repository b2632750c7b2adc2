"""Task states, and the order that decides which of two observations of a task is the newer.

Events reach the camera late and out of order. Every observation of a task carries a
`progress` number, and a stored row only takes the state of an observation whose progress is
at least its own:

- PENDING (a task-sent event) is the lowest: it never hides what a worker reported.
- A finished state (SUCCESS, FAILURE, REVOKED) is the highest: nothing that arrives later moves
  a finished task back to STARTED or RETRY. Between two of them, Celery's precedence decides.
- The states in between (RECEIVED, STARTED, RETRY, REJECTED, custom ones) follow the time of
  their event, so a retried task that is received again shows RECEIVED, then STARTED; a late
  event with an earlier time loses. At the same millisecond STARTED beats RECEIVED, RETRY
  beats STARTED.
"""

from __future__ import annotations

from celery import states

PENDING = states.PENDING
RECEIVED = states.RECEIVED
STARTED = states.STARTED
SUCCESS = states.SUCCESS
FAILURE = states.FAILURE
RETRY = states.RETRY
REVOKED = states.REVOKED
REJECTED = states.REJECTED

ALL_STATES = (PENDING, RECEIVED, STARTED, RETRY, REJECTED, SUCCESS, FAILURE, REVOKED)
FINISHED_STATES = (SUCCESS, FAILURE, REVOKED)
# How the cleanup groups states (as django-celery did): errors are kept longer than successes.
ERROR_STATES = (FAILURE, RETRY, REVOKED)

_FINISHED_RANK = {REVOKED: 1, FAILURE: 2, SUCCESS: 3}
_ACTIVE_RANK = {RECEIVED: 1, REJECTED: 2, STARTED: 3, RETRY: 4}
_CUSTOM_RANK = 2
_ACTIVE_BASE = 10**15  # above PENDING; milliseconds since 1970 times 10 stay below 10**15
_FINISHED_BASE = 2 * 10**15
# Every finished observation's progress is at least this; no unfinished one reaches it.
FINISHED_PROGRESS = _FINISHED_BASE


def progress(state: str, timestamp: float) -> int:
    """Return the ordering number of an observation of `state` made at `timestamp` (epoch s)."""
    if state == PENDING:
        return 1
    if state in _FINISHED_RANK:
        return _FINISHED_BASE + _FINISHED_RANK[state]
    milliseconds = max(0, min(int(timestamp * 1000), 10**14 - 1))
    return _ACTIVE_BASE + milliseconds * 10 + _ACTIVE_RANK.get(state, _CUSTOM_RANK)
