"""The jobs this visitor queued lately, kept in the session, so the active page can show each
one from the moment it is queued until it has finished."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

SESSION_KEY = "soup_recent_jobs"
KEEP = 10  # jobs remembered per session
KEEP_FOR = timedelta(hours=1)

# What the page says for each status a job can be seen in, by where it was seen.
QUEUED, RUNNING, RESERVED, SCHEDULED = "queued", "running", "reserved", "scheduled"
_HELD = {"active": RUNNING, "reserved": RESERVED, "scheduled": SCHEDULED}
_RECORDED = {"PENDING": QUEUED, "RECEIVED": RESERVED, "STARTED": RUNNING}


@dataclass(frozen=True)
class RecentJob:
    """A job this visitor queued, and where it is now."""

    task_id: str
    name: str
    routing_key: str
    queued_at: datetime
    status: str = QUEUED


def remember(session, task_id: str, name: str, routing_key: str, now: datetime) -> None:
    """Add a job just queued to the session's list (newest first, at most KEEP)."""
    entry = {"id": task_id, "name": name, "key": routing_key, "at": now.timestamp()}
    jobs = [entry, *session.get(SESSION_KEY, [])][:KEEP]
    session[SESSION_KEY] = jobs


def task_ids(session) -> set[str]:
    """The ids of every job the session queued that it still remembers, however old."""
    entries = session.get(SESSION_KEY, [])
    return {str(entry["id"]) for entry in entries if isinstance(entry, dict) and "id" in entry}


def recall(session, now: datetime) -> list[RecentJob]:
    """The session's jobs queued within KEEP_FOR, newest first; malformed entries are skipped."""
    jobs = []
    for entry in session.get(SESSION_KEY, []):
        try:
            queued_at = datetime.fromtimestamp(float(entry["at"]), tz=UTC)
            job = RecentJob(str(entry["id"]), str(entry["name"]), str(entry["key"]), queued_at)
        except (KeyError, TypeError, ValueError, OverflowError, OSError):
            continue
        if now - queued_at <= KEEP_FOR:
            jobs.append(job)
    return jobs


def locate(job: RecentJob, held: str | None, recorded: str | None) -> RecentJob:
    """The job with its status: what a worker says it holds wins, then the camera's record
    (its final state, such as SUCCESS), else "queued" (still in the broker)."""
    if held in _HELD:
        status = _HELD[held]
    elif recorded:
        status = _RECORDED.get(recorded, recorded)
    else:
        status = QUEUED
    return RecentJob(job.task_id, job.name, job.routing_key, job.queued_at, status)
