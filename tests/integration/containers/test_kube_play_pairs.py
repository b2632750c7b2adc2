"""The tutorial's story under `podman kube play` on MySQL (MariaDB) and Redis: a copy of this
repository whose build file names them, its images built and its manifests exported, the form's
job run by the worker on Redis and listed SUCCESS with its routing key, the worker on the Workers
page, a waiting job revoked and running ones terminated from the admin, and `down` leaving
nothing. The default pair's manifests are test_kube_play's; the local runner's pods are named
as the manifests name them, so this module runs in the same unit, after it."""

from __future__ import annotations

import re

import pytest

from tests.integration.pairs import OTHER_PAIRS
from tests.integration.platform_sim.conftest import Browser, run_cli, wait_for
from tests.integration.platform_sim.test_story_pairs import JOB_SECONDS, TRANSPORTS
from tests.integration.story_steps import revoke_and_terminate

from .conftest import build_images, podman, remove_images
from .test_compose_pairs import pair_source
from .test_kube_play import admin_password, export_to, logs, played, queue_job, task_row

pytestmark = pytest.mark.integration
APP = "kubemysqlredis"
KINDS = OTHER_PAIRS["mysql-redis"]
ONLINE = re.compile(r">celery@[^<]+</a></th><td[^>]*><span[^>]*>ONLINE<")  # a Workers row


@pytest.fixture(scope="module")
def cluster(sim_home, tmp_path_factory):
    """The pair's manifests running: the runner, the manifests' folder and the URL."""
    source = pair_source(tmp_path_factory, KINDS)
    folder = tmp_path_factory.mktemp("kube_pair") / "manifests"
    try:
        built = build_images(sim_home, APP, source, ahead=True)  # the longest chain's
        run_cli(
            sim_home, "-A", APP, "env", "set", f"SOUP_LAZY_JOB_SECONDS={JOB_SECONDS}", check=True
        )
        export_to(folder, sim_home, built, {"www": 1, "workers": 1}, APP, source)
        with played(folder) as (run, url):
            yield run, folder, url
    finally:
        remove_images(APP)


@pytest.fixture(scope="module")
def admin(cluster) -> Browser:
    _, _, url = cluster
    browser = Browser(url)
    browser.post_form(
        "/admin/login/?next=/admin/", {"username": "admin", "password": admin_password()}
    )
    return browser


def test_the_manifests_run_mariadb_and_redis(cluster):
    _, folder, _ = cluster
    manifests = "".join(path.read_text() for path in folder.glob("*.yaml"))
    for name in KINDS:
        assert f"localhost/{APP}-{name}:" in manifests
    assert "MARIADB_DATABASE" in manifests and "REDIS_PASSWORD" in manifests


def test_the_tutorial_story_on_mysql_and_redis(cluster, admin):
    _, _, url = cluster
    job = queue_job(url, "kubepair")
    wait_for(lambda: f"Lazy job {job} completed" in logs("workers-pod-0"), 120, f"{job} to run")
    row = wait_for(
        lambda: task_row(admin.get(f"/admin/monitor/taskstate/?q={job}"), job),
        120,
        "the admin's Tasks page to list the job as SUCCESS",
    )
    assert "tasks.soup" in row  # its routing key
    assert f".> transport:   {TRANSPORTS['redis']}" in logs("workers-pod-0")
    workers = "/admin/monitor/workerstate/"
    wait_for(lambda: ONLINE.search(admin.get(workers)), 60, "the Workers page to list it")


def test_a_waiting_job_revoked_and_running_ones_terminated_never_complete(cluster, admin):
    revoke_and_terminate(admin, lambda: logs("workers-pod-0"), JOB_SECONDS)


def test_down_leaves_nothing(cluster):
    run, folder, _ = cluster
    run.down()
    assert not (folder / ".kube-play").exists()
    pods = podman("pod", "ps", "--format", "{{.Name}}").stdout.split()
    assert not {"db", "broker", "www-pod-0", "workers-pod-0"} & set(pods)
    volumes = podman("volume", "ls", "--format", "{{.Name}}").stdout.split()
    assert [name for name in volumes if name.startswith(f"{APP}-")] == []
    networks = podman("network", "ls", "--format", "{{.Name}}").stdout.split()
    assert f"{APP}-kube-play" not in networks
