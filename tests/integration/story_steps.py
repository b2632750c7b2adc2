"""Steps of the tutorial's story shared by the pushed apps' and the containers' stories: a row of
the admin's Tasks page, and a waiting job revoked and running ones terminated from the admin."""

from __future__ import annotations

import re
from collections.abc import Callable

from tests.integration.platform_sim.conftest import Browser, wait_for
from tests.integration.platform_sim.test_tutorial_story import queue_job

SLOTS = 2  # the workers' -c 2 (the tutorial's djcelery program)


def selected_id(page: str, job: str, state: str | None = None) -> str | None:
    """The task id of ``job``'s changelist row (once it is in ``state``, if given)."""
    for row in re.findall(r"<tr[^>]*>.*?</tr>", page, re.S):
        selected = re.search(r'name="_selected_action" value="([^"]+)"', row)  # not the header's
        if selected and job in row and (state is None or f">{state}<" in row):
            return selected.group(1)
    return None


def search(job: str) -> str:
    """The admin's Tasks page searching for ``job``."""
    return f"/admin/monitor/taskstate/?q={job}"


def revoke_and_terminate(admin: Browser, worker_logs: Callable[[], str], job_seconds: float):
    """Fill the worker's slots with jobs of ``job_seconds`` and queue one more behind them;
    revoke the waiting one and terminate the running ones from the admin: all three end REVOKED,
    none completes, the waiting one never starts."""
    running = [queue_job(admin.base, "terminated") for _ in range(SLOTS)]
    waiting = queue_job(admin.base, "revoked")  # queued behind them: taken when a slot frees
    waiting_id = wait_for(
        lambda: selected_id(admin.get(search(waiting)), waiting), job_seconds, f"{waiting} listed"
    )
    admin.post_form(search(waiting), {"action": "revoke_tasks", "_selected_action": waiting_id})
    for job in running:
        task_id = wait_for(
            lambda job=job: selected_id(admin.get(search(job)), job, "STARTED"),
            job_seconds,
            f"{job} STARTED",
        )
        admin.post_form(search(job), {"action": "terminate_tasks", "_selected_action": task_id})
    for job in [*running, waiting]:
        wait_for(
            lambda job=job: selected_id(admin.get(search(job)), job, "REVOKED"),
            60,
            f"{job} REVOKED",
        )
    logs = worker_logs()
    assert not [job for job in [*running, waiting] if f"Lazy job {job} completed" in logs]
    assert f"Starting the lazy job: {waiting}" not in logs
