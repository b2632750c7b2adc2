"""The merge rules of stored rows, written once as data and applied in Python and in SQL.

A stored row and a new observation of the same object merge column by column:

- WINNER columns take the winner's value, falling back to the other side's when the winner
  does not know it: a field learnt from one event is never blanked by another that lacks it.
  For tasks the winner is the side with the higher `progress` (see states.py); for workers,
  which have no order column, it is always the new observation.
- OUTCOME columns (result, traceback, runtime) belong to the event that set the state: they
  merge as WINNER columns, except that a finished winner (progress at least `finished`) takes
  nothing from an observation of another state, so a task that succeeded after a retry does
  not show the retry's traceback. Two observations of the same finished state still fill each
  other in.
- LATEST columns (event times, retry count, last heartbeat) keep the greatest value known,
  whatever order the events came in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from minestrone.monitor.states import FINISHED_PROGRESS

WINNER = "winner"
LATEST = "latest"
OUTCOME = "outcome"


@dataclass(frozen=True)
class Rules:
    """How the rows of one table merge: the conflict key, the order column, a rule per column;
    with OUTCOME columns, the state column and the order from which a state is finished."""

    key: str
    columns: dict[str, str]
    order: str | None = None
    state: str | None = None
    finished: int | None = None
    latest: tuple[str, ...] = field(init=False)
    outcome: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        latest = tuple(column for column, rule in self.columns.items() if rule == LATEST)
        outcome = tuple(column for column, rule in self.columns.items() if rule == OUTCOME)
        if outcome and (self.order is None or self.state is None or self.finished is None):
            raise ValueError("OUTCOME columns need an order, a state column and `finished`")
        object.__setattr__(self, "latest", latest)
        object.__setattr__(self, "outcome", outcome)

    def merge(self, stored: dict, new: dict) -> dict:
        """Merge two sparse rows of one object, exactly as the database does on conflict."""
        new_wins = self.order is None or new[self.order] >= stored[self.order]
        winner, loser = (new, stored) if new_wins else (stored, new)
        if None in loser.values() or None in winner.values():
            merged = {column: value for column, value in loser.items() if value is not None}
            merged.update({column: value for column, value in winner.items() if value is not None})
        else:  # observations hold no None: the usual case, a plain union
            merged = {**loser, **winner}
        if self.outcome and self.finished_apart(winner, loser):
            for column in self.outcome:
                merged.pop(column, None)
                if winner.get(column) is not None:
                    merged[column] = winner[column]
        for column in self.latest:
            old, recent = stored.get(column), new.get(column)
            if old is not None and recent is not None and old > recent:
                merged[column] = old
            elif recent is not None:
                merged[column] = recent
        return merged

    def finished_apart(self, winner: dict, loser: dict) -> bool:
        """Whether the winner is finished and the loser observed another state."""
        return winner[self.order] >= self.finished and winner[self.state] != loser[self.state]


TASK_RULES = Rules(
    key="task_id",
    order="progress",
    state="state",
    finished=FINISHED_PROGRESS,
    columns={
        "state": WINNER,
        "progress": WINNER,
        "tstamp": WINNER,
        "name": WINNER,
        "args": WINNER,
        "kwargs": WINNER,
        "eta": WINNER,  # the worker's (received) ETA overrides the client's (sent); a retry's too
        "expires": WINNER,
        "exchange": WINNER,
        "routing_key": WINNER,
        "queue": WINNER,
        "result": OUTCOME,
        "traceback": OUTCOME,
        "runtime": OUTCOME,
        "worker": WINNER,
        "revocation": WINNER,
        "retries": LATEST,
        "sent": LATEST,
        "received": LATEST,
        "started": LATEST,
        "finished": LATEST,
    },
)

WORKER_RULES = Rules(
    key="hostname",
    columns={
        "last_heartbeat": LATEST,
        "heartbeat_expires": WINNER,
        "pid": WINNER,
        "sw_ident": WINNER,
        "sw_ver": WINNER,
        "sw_sys": WINNER,
        "active": WINNER,
        "processed": WINNER,
        "loadavg": WINNER,
    },
)
