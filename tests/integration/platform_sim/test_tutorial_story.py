"""The tutorial's whole story on THIS repository pushed with platform_sim, then its day-two
operations on the real app: run, logs, scaled workers sharing the queue, and redeploys that
neither fail a request nor lose a job.

The tests of this module run in order against one application.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import secrets
import signal
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.integration.pausing import celery_pool, signal_all

from .conftest import REPO, Browser, Hammer, info, run_cli, start_cli, wait_for

pytestmark = pytest.mark.integration
APP = "soup-story"
ADMIN_LINE = re.compile(r"Admin credentials: user admin, password in (\S+) \(owner-only\)")


@pytest.fixture(scope="module")
def pushed(sim_home):
    key = secrets.token_urlsafe(40)
    run_cli(sim_home, "-A", APP, "env", "set", f"DJANGO_SECRET_KEY={key}", check=True)
    result = run_cli(sim_home, "-A", APP, "push", str(REPO), check=True, timeout=900)
    return result, info(sim_home, APP)["url"]


def cli(sim_home, *args, check=False, timeout=600):
    return run_cli(sim_home, "-A", APP, *args, check=check, timeout=timeout)


def queue_job(url: str, prefix: str) -> str:
    """Submit the editor form over HTTP; return the job's name."""
    job = f"{prefix}-{secrets.token_hex(4)}"
    Browser(url).post_form("/", {"job_name": job, "routing_key_name": "soup"})
    return job


def worker_logs(sim_home) -> str:
    return cli(sim_home, "logs", "workers", "--no-follow", "-n", "200", check=True).stdout


def task_row(page: str, job: str) -> str | None:
    """The admin changelist row of ``job``, once it says SUCCESS."""
    for row in re.findall(r"<tr[^>]*>.*?</tr>", page, re.S):
        if job in row and ">SUCCESS<" in row:
            return row
    return None


LOGGED_AT = re.compile(r"\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}): ")


def most_at_once(text: str, jobs: list[str]) -> int:
    """How many of ``jobs`` ran at the same moment, by the workers' own log times."""
    changes = []
    for line in text.splitlines():
        stamp = LOGGED_AT.search(line)
        for job in jobs:
            if stamp and line.endswith(f"Starting the lazy job: {job}"):
                changes.append((stamp.group(1), 1))
            elif stamp and line.endswith(f"Lazy job {job} completed"):
                changes.append((stamp.group(1), -1))
    running = most = 0
    for _, change in sorted(changes):  # at one instant an end comes before a start
        running += change
        most = max(most, running)
    return most


class Follower:
    """``logs workers`` running in the background; its lines are collected as they come.

    It is ready once it holds every worker instance's ``djcelery.log`` open: from then on every
    line written there reaches it (it starts at the files' ends).
    """

    def __init__(self, sim_home) -> None:
        instances = info(sim_home, APP)["services"]["workers"]["instances"]
        wanted = {str(Path(instance["logs"]) / "djcelery.log") for instance in instances}
        self.process = start_cli(sim_home, "-A", APP, "logs", "workers", "-n", "0")
        self.lines: list[str] = []
        self._arrived: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        wait_for(lambda: wanted <= self._open_files(), 30, "the follower to open the logs")

    def _open_files(self) -> set[str]:
        opened = set()
        for fd in Path(f"/proc/{self.process.pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                opened.add(os.readlink(fd))
        return opened

    def _read(self) -> None:
        for line in self.process.stdout:
            self._arrived.put(line)

    def until(self, text: str, timeout: float) -> None:
        """Wait until a line holding ``text`` arrived."""
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            left = deadline - time.monotonic()
            assert left > 0, f"no {text!r} in the followed logs"
            assert self.process.poll() is None, "logs stopped following"
            try:
                self.lines.append(self._arrived.get(timeout=min(left, 1.0)))
            except queue.Empty:
                continue

    def count(self, text: str) -> int:
        return sum(text in line for line in self.lines)

    def stop(self) -> None:
        """Stop following; every line it wrote is in ``lines``."""
        self.process.send_signal(signal.SIGINT)
        self.process.wait(10)
        self._reader.join(10)
        while not self._arrived.empty():
            self.lines.append(self._arrived.get())


def test_the_tutorial_story(sim_home, pushed):
    result, url = pushed
    password_file = Path(ADMIN_LINE.search(result.stdout).group(1))
    job = queue_job(url, "story")
    wait_for(lambda: f"Lazy job {job} completed" in worker_logs(sim_home), 60, f"{job} to run")
    line = next(x for x in worker_logs(sim_home).splitlines() if f"Lazy job {job} completed" in x)
    assert line.startswith("[workers.0] ")
    admin = Browser(url)
    admin.post_form(
        "/admin/login/?next=/admin/",
        {"username": "admin", "password": password_file.read_text().strip()},
    )
    row = wait_for(
        lambda: task_row(admin.get(f"/admin/monitor/taskstate/?q={job}"), job),
        60,
        "the admin's Tasks page to list the job as SUCCESS",
    )
    assert "tasks.soup" in row  # its routing key


def api_call(url: str, path: str, token: str, method: str = "GET") -> tuple[int, dict]:
    """Call the monitor's API with a bearer token; return the status and the JSON body."""
    request = urllib.request.Request(
        url + path.lstrip("/"), method=method, headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_api_answers_a_token_issued_in_the_instance(sim_home, pushed):
    _, url = pushed
    job = queue_job(url, "api")
    made = cli(
        sim_home, "run", "www", "--", "python", "minestrone/manage.py", "api_token", "create",
        "admin", "--read-only", check=True,
    )  # fmt: skip
    token = made.stdout.strip().splitlines()[-1]
    assert token.startswith("msk_")

    def the_job():
        status, tasks = api_call(url, "/api/tasks?taskname=minestrone.soup.tasks.lazy_job", token)
        assert status == 200, tasks
        return [t for t in tasks.values() if job in (t["args"] or "") and t["state"] == "SUCCESS"]

    [task] = wait_for(the_job, 60, "the API to list the job as SUCCESS")
    assert task["routing_key"] == "tasks.soup" and task["worker"]
    status, info = api_call(url, f"/api/task/info/{task['uuid']}", token)
    assert status == 200 and info == task
    status, refused = api_call(url, f"/api/task/revoke/{task['uuid']}", token, "POST")
    assert status == 403 and "read-only" in refused["error"]
    assert api_call(url, "/api/tasks", "msk_not-a-token")[0] == 401


def test_run_reaches_django_and_supervisor_in_the_instances(sim_home, pushed):
    code = (
        "from django.contrib.auth.models import User; "
        "print('superusers:', User.objects.filter(is_superuser=True).count())"
    )
    shell = cli(sim_home, "run", "www", "--", "python", "minestrone/manage.py", "shell", "-c", code)
    assert shell.returncode == 0, shell.stdout + shell.stderr
    assert "superusers: 1" in shell.stdout
    status = cli(sim_home, "run", "workers", "--", "supervisorctl", "status", check=True)
    assert [line.split()[:2] for line in status.stdout.splitlines()] == [
        ["celerycam", "RUNNING"],
        ["djcelery", "RUNNING"],
        ["platform_watchdog", "RUNNING"],  # the platform's own (starts FATAL programs again)
    ]


def test_logs_workers_streams_the_job_lines_as_they_are_written(sim_home, pushed):
    _, url = pushed
    follower = Follower(sim_home)
    try:
        job = queue_job(url, "follow")
        follower.until(f"Starting the lazy job: {job}", 30)
        follower.until(f"Lazy job {job} completed", 30)
    finally:
        follower.stop()


def test_two_workers_run_jobs_in_parallel(sim_home, pushed):
    _, url = pushed
    with Hammer(url) as client:
        cli(sim_home, "scale", "workers=2", check=True)
    assert client.outcomes and client.failures == [], client.explain(sim_home)
    assert cli(sim_home, "status", "workers", check=True).stdout.count(": up (") == 2
    jobs = [queue_job(url, f"parallel{n}") for n in range(4)]  # 4 jobs of 5 s, 2 x -c 2 slots

    def all_done():
        text = worker_logs(sim_home)
        return all(f"Lazy job {job} completed" in text for job in jobs) and text

    text = wait_for(all_done, 60, "the four jobs")
    running = most_at_once(text, jobs)
    assert running >= 3, f"at most {running} jobs ran at once: one worker has only 2 slots"
    ran_on = {
        line.split(" ", 1)[0]
        for line in text.splitlines()
        if any(f"Lazy job {job} completed" in line for job in jobs)
    }
    assert ran_on == {"[workers.0]", "[workers.1]"}


def pool_processes(instance: dict) -> list[int]:
    """The host pids of the Celery pool processes of a worker instance."""
    root = json.loads((Path(instance["home"]) / "platform" / "pid.json").read_text())["pid"]
    return celery_pool(root)


def test_a_redeploy_loses_no_running_job(sim_home, pushed):
    """The redeploy's stop of the old workers finds the job running: its pool processes are
    paused (SIGSTOP) from the job's start until the deploy says it stops the old deploy, so
    however slow the machine, the job is mid-run then; the warm shutdown lets it finish."""
    _, url = pushed
    with Hammer(url) as client:  # a redeploy of the real app: no failed request
        # longer than the moments between the job's start and its pool's pause
        cli(sim_home, "env", "set", "SOUP_LAZY_JOB_SECONDS=20", check=True)
    assert client.outcomes and client.failures == [], client.explain(sim_home)
    old = info(sim_home, APP)["services"]["workers"]["instances"]
    pools = [pid for instance in old for pid in pool_processes(instance)]
    logs = [Path(instance["logs"]) / "djcelery.log" for instance in old]
    follower = Follower(sim_home)
    deploy = None
    try:
        job = queue_job(url, "long")
        follower.until(f"Starting the lazy job: {job}", 30)
        signal_all(pools, signal.SIGSTOP)
        with Hammer(url) as client:
            deploy = start_cli(sim_home, "-A", APP, "deploy", "latest")
            said = []
            for line in deploy.stdout:
                said.append(line)
                if "Stopping deploy" in line:
                    break
            assert any("Stopping deploy" in line for line in said), "".join(said)
            time.sleep(1)  # the old worker's warm shutdown has begun: it waits for the job
            written = "".join(path.read_text(errors="replace") for path in logs)
            assert f"Starting the lazy job: {job}" in written  # an old worker ran it ...
            assert f"Lazy job {job} completed" not in written  # ... and it was mid-run
            signal_all(pools, signal.SIGCONT)
            said += deploy.stdout.readlines()
            assert deploy.wait(120) == 0, "".join(said)
        assert client.failures == [], client.explain(sim_home)
        follower.until(f"Lazy job {job} completed", 120)
        time.sleep(2)
    finally:
        signal_all(pools, signal.SIGCONT)
        if deploy is not None and deploy.poll() is None:
            deploy.kill()
            deploy.wait(30)
        follower.stop()
    assert follower.count(f"Lazy job {job} completed") == 1
    # the warm shutdown let it finish (stopasgroup off: its pool process was not killed)
    assert follower.count(f"Starting the lazy job: {job}") == 1
