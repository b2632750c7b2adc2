"""The tutorial's story on THIS repository pushed with platform_sim on MySQL (MariaDB) and Redis:
the editor form, the worker, the admin's Tasks page with the form's routing key, the Workers
page, a running job terminated from the admin, ``info`` naming both services, and ``destroy``.

One push: the default pair's story is test_tutorial_story's; this is the other end of the matrix.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

import pytest

from bench.push import COPY_SKIPS, set_kinds
from platform_sim.builder import upload
from platform_sim.hosts.network import Network

from .conftest import REPO, Browser, info, leftover_processes, run_cli, wait_for
from .test_tutorial_story import ADMIN_LINE, queue_job, task_row

pytestmark = pytest.mark.integration
APP = "soup-kinds"
KINDS = {"db": "mysql", "broker": "redis"}
JOB_SECONDS = 15  # long enough to terminate a job while it runs, short for the story's wait


@pytest.fixture(scope="module")
def pushed(sim_home, tmp_path_factory):
    folder = tmp_path_factory.mktemp("src") / "minestrone"  # without the local environments
    upload.copy_tree(REPO, folder, upload.ignore_patterns(REPO) + COPY_SKIPS)
    set_kinds(folder, KINDS)
    key = secrets.token_urlsafe(40)
    run_cli(
        sim_home, "-A", APP, "env", "set", f"DJANGO_SECRET_KEY={key}",
        f"SOUP_LAZY_JOB_SECONDS={JOB_SECONDS}", check=True,
    )  # fmt: skip
    result = run_cli(sim_home, "-A", APP, "push", str(folder), check=True, timeout=900)
    admin = Browser(info(sim_home, APP)["url"])
    password = Path(ADMIN_LINE.search(result.stdout).group(1)).read_text().strip()
    admin.post_form("/admin/login/?next=/admin/", {"username": "admin", "password": password})
    return admin


def worker_logs(sim_home) -> str:
    return run_cli(sim_home, "-A", APP, "logs", "workers", "--no-follow", "-n", "200").stdout


def selected_id(page: str, job: str, state: str) -> str | None:
    """The task id of ``job``'s changelist row once it is in ``state``."""
    for row in re.findall(r"<tr[^>]*>.*?</tr>", page, re.S):
        if job in row and f">{state}<" in row:
            return re.search(r'name="_selected_action" value="([^"]+)"', row).group(1)
    return None


def test_info_names_both_services(sim_home, pushed):
    services = info(sim_home, APP)["services"]
    for name, kind in KINDS.items():
        assert services[name]["type"] == kind
        assert services[name]["instances"][0]["status"] == "running"
    text = run_cli(sim_home, "-A", APP, "info", check=True).stdout
    for name, kind in KINDS.items():
        assert re.search(rf"(?m)^{name}\.0 +{kind} +running ", text), text
    vendor = run_cli(
        sim_home, "-A", APP, "run", "www", "--", "python", "minestrone/manage.py", "shell", "-c",
        "from django.db import connection; print('database:', connection.vendor)", check=True,
    )  # fmt: skip
    assert "database: mysql" in vendor.stdout, vendor.stdout


def test_the_tutorial_story_on_mysql_and_redis(sim_home, pushed):
    admin = pushed
    job = queue_job(admin.base, "kinds")
    wait_for(lambda: f"Lazy job {job} completed" in worker_logs(sim_home), 90, f"{job} to run")
    row = wait_for(
        lambda: task_row(admin.get(f"/admin/monitor/taskstate/?q={job}"), job),
        60,
        "the admin's Tasks page to list the job as SUCCESS",
    )
    assert "tasks.soup" in row  # the form's routing key
    assert ".> transport:   redis://" in worker_logs(sim_home)  # the worker's broker
    workers = admin.get("/admin/monitor/workerstate/")
    listed = rf">celery@{APP}-workers-0-d\d+</a></th><td[^>]*><span[^>]*>ONLINE<"
    assert re.search(listed, workers), workers[-3000:]


def test_a_running_job_terminated_from_the_admin_ends_revoked(sim_home, pushed):
    admin = pushed
    job = queue_job(admin.base, "terminated")
    search = f"/admin/monitor/taskstate/?q={job}"
    task_id = wait_for(
        lambda: selected_id(admin.get(search), job, "STARTED"), JOB_SECONDS, "the job STARTED"
    )
    admin.post_form(search, {"action": "terminate_tasks", "_selected_action": task_id})
    wait_for(lambda: selected_id(admin.get(search), job, "REVOKED"), 60, "the job REVOKED")
    assert f"Lazy job {job} completed" not in worker_logs(sim_home)


def test_destroy_leaves_nothing(sim_home, pushed):
    network = Network(sim_home / APP)
    run_cli(sim_home, "-A", APP, "destroy", "-y", check=True)
    assert not (sim_home / APP).exists()
    assert not Path(f"/sys/class/net/{network.bridge}").exists()
    assert not [name for name in os.listdir("/run/netns") if name.startswith(f"ps{network.tag}-")]
    assert leftover_processes(sim_home) == []
