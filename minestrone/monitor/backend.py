"""A result backend that stores nothing, for a project whose outcomes come from events."""

from celery import states
from celery.backends.base import DisabledBackend


class NoResultBackend(DisabledBackend):
    """Celery's disabled backend, except that a state query answers PENDING (unknown).

    A worker asks the backend for the state of every task it revokes; the disabled backend
    raises, and the worker logs "No result backend is configured" for each revoke. Here the
    answer is "unknown", and storing the revoked state is the usual no-op.
    """

    def get_state(self, task_id: str) -> str:
        """PENDING: nothing is ever stored, so no state is known."""
        return states.PENDING

    get_status = get_state
