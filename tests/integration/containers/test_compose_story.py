"""The whole app on Compose: this repository exported, brought up with podman-compose against
Podman, the tutorial's story in containers, a warm worker stop, and nothing left by `down`.

The tests of this module run in order against one Compose project.
"""

from __future__ import annotations

import json
import re
import secrets
import time

import pytest
import yaml

from backing_services.ports import free_ports
from platform_sim.containers.export.compose import COMPOSE_FILE
from platform_sim.containers.facts import CODE_UID
from tests.integration.app_role import check_role_as_superuser
from tests.integration.browser import check_deployed
from tests.integration.platform_sim.conftest import REPO, Browser, run_cli, wait_for

from .conftest import (
    APP,
    StartWatch,
    compose,
    in_background,
    podman,
    process_status,
    process_uids,
    project_label,
    project_volumes,
    remove_leftovers,
    runs,
)

pytestmark = pytest.mark.integration
LABEL = project_label(APP)


@pytest.fixture(scope="module")
def deployed(sim_home, built, tmp_path_factory):
    remove_leftovers()
    folder = tmp_path_factory.mktemp("deploy")
    port = free_ports(1)[0]
    run_cli(
        sim_home,
        "-A",
        APP,
        "export",
        "compose",
        str(REPO),
        "-o",
        str(folder),
        "--force",
        "--port",
        str(port),
        check=True,
    )
    try:
        compose(folder, "up", "-d")
        url = f"http://127.0.0.1:{port}/"
        yield folder, url
    finally:
        compose(folder, "down", "-v", check=False)
        assert podman("ps", "-a", "-q", "--filter", LABEL).stdout.split() == []
        assert project_volumes() == []


def logs(folder, service: str) -> str:
    """What the project's ``service`` container logged, read with podman (the tests poll it:
    podman-compose's own ``logs`` costs a Python start, about 0.7 CPU-s, each time)."""
    project = yaml.safe_load((folder / COMPOSE_FILE).read_text())["name"]
    found = podman(
        "ps", "-a", "-q", "--filter", project_label(project),
        "--filter", f"label=com.docker.compose.service={service}", check=False,
    ).stdout.split()  # fmt: skip (polled: a podman error meanwhile is an empty answer)
    said = [podman("logs", container, check=False) for container in found]
    return "".join(result.stdout + result.stderr for result in said)  # Celery logs to stderr


def answers(url: str) -> bool:
    try:
        return "routing" in Browser(url).get("/").lower()
    except OSError:
        return False


def queue_job(url: str, prefix: str) -> str:
    job = f"{prefix}-{secrets.token_hex(4)}"
    Browser(url).post_form("/", {"job_name": job, "routing_key_name": "soup"})
    return job


def task_row(page: str, job: str) -> str | None:
    for row in re.findall(r"<tr[^>]*>.*?</tr>", page, re.S):
        if job in row and ">SUCCESS<" in row:
            return row
    return None


def logged_in_admin(folder, url: str) -> Browser:
    """A browser logged in as the admin, with the password the www container generated."""
    password = compose(
        folder, "exec", "-T", "www", "cat", "/home/dotcloud/data/admin-password"
    ).stdout.strip()
    assert password
    admin = Browser(url)
    admin.post_form("/admin/login/?next=/admin/", {"username": "admin", "password": password})
    return admin


def run_the_story(folder, url: str, prefix: str) -> tuple[Browser, str]:
    """The form's job, once the site and the worker are up, run by the worker and listed as
    SUCCESS on the admin's Tasks page: the logged-in admin and the job's row."""
    wait_for(lambda: answers(url), 300, "the site in its container to answer")
    wait_for(lambda: " ready." in logs(folder, "workers"), 180, "the worker to be ready")
    job = queue_job(url, prefix)
    wait_for(lambda: f"Lazy job {job} completed" in logs(folder, "workers"), 90, f"{job} to run")
    admin = logged_in_admin(folder, url)
    row = wait_for(
        lambda: task_row(admin.get(f"/admin/monitor/taskstate/?q={job}"), job),
        90,
        "the admin's Tasks page to list the job as SUCCESS",
    )
    return admin, row


def test_the_compose_file_runs_the_tutorial_story(deployed):
    folder, url = deployed
    _, row = run_the_story(folder, url, "compose")
    assert "tasks.soup" in row  # its routing key


def test_the_pages_in_the_containers_load_whole_live_and_fit_both_widths(deployed):
    """The story from the form to SUCCESS without a reload, then every page's stylesheets,
    scripts and images served right by the container's nginx, no CSP violation, at both widths
    (screenshots compose-*.png)."""
    folder, url = deployed
    password = compose(
        folder, "exec", "-T", "www", "cat", "/home/dotcloud/data/admin-password"
    ).stdout.strip()
    assert check_deployed(url, password, "compose") == {}


def test_no_secret_was_on_a_command_line(deployed):
    folder, _ = deployed
    environment = json.loads((folder / "www.environment.json").read_text())
    secrets_ = [
        (folder / name).read_text()
        for name in ("db.password", "db.app-password", "broker.password")
    ]
    secrets_ += [environment["DJANGO_SECRET_KEY"], environment["DOTCLOUD_DB_SQL_PASSWORD"]]
    containers = podman("ps", "-a", "-q", "--filter", LABEL).stdout.split()
    assert len(containers) >= 4
    for container in containers:
        created = podman("inspect", container, "--format", "{{json .Config.CreateCommand}}")
        assert "podman" in created.stdout
        for secret in secrets_:
            assert secret not in created.stdout, container


def test_the_app_logs_in_as_a_role_owning_its_database_and_nothing_more(deployed):
    folder, _ = deployed
    superuser = (folder / "db.password").read_text()
    for service in ("www", "workers"):
        text = (folder / f"{service}.environment.json").read_text()
        assert superuser not in text
    environment = json.loads(text)
    login, database = environment["DOTCLOUD_DB_SQL_LOGIN"], environment["DOTCLOUD_DB_SQL_DATABASE"]
    assert login != "root"

    def psql(name: str, query: str) -> str:
        return compose(
            folder, "exec", "-T", "db", "psql", "-U", "root", "-d", name, "-tAc", query
        ).stdout

    check_role_as_superuser(psql, login, database)


def test_the_apps_code_runs_as_its_own_account_never_as_root(deployed):
    for service, programs in (("www", {"nginx", "gunicorn"}), ("workers", {"celery"})):
        names = podman(
            "ps", "-q", "--filter", LABEL, "--filter", f"label=com.docker.compose.service={service}"
        ).stdout.split()
        assert names, service
        owners = process_uids(names[0])
        assert runs(owners, *programs), owners
        assert set().union(*owners.values()) == {CODE_UID}, owners  # supervisord included


def test_no_program_holds_a_capability_or_can_gain_one_and_the_image_is_read_only(deployed):
    folder, _ = deployed
    for service in ("www", "workers"):
        names = podman(
            "ps", "-q", "--filter", LABEL, "--filter", f"label=com.docker.compose.service={service}"
        ).stdout.split()
        assert names, service
        processes = process_status(names[0])
        assert len(processes) > 3, processes  # supervisord and its programs
        for command, fields in processes.items():
            assert int(fields["CapEff"], 16) == 0, (command, fields["CapEff"])
            assert int(fields["CapPrm"], 16) == 0, (command, fields["CapPrm"])
            # not even one to lose: the container was started with none, as the account
            assert int(fields["CapBnd"], 16) == 0, (command, fields["CapBnd"])
            assert fields["NoNewPrivs"] == "1", command
        started = podman("inspect", names[0], "--format", "{{.Config.User}}").stdout.strip()
        assert started == f"{CODE_UID}:{CODE_UID}", started
        # even root, exec'd into the container, cannot change the image
        written = compose(
            folder, "exec", "-T", "--user", "0", service, "sh", "-c", "touch /probe", check=False
        )
        assert written.returncode != 0 and "Read-only file system" in written.stderr, written
        # the home and the logs are tmpfs mounts the account owns
        mounts = compose(folder, "exec", "-T", service, "cat", "/proc/mounts").stdout
        for target in ("/home/dotcloud", "/var/log/supervisor", "/tmp"):
            assert f" {target} tmpfs " in mounts, mounts


def test_stopping_the_worker_container_finishes_the_running_job(deployed):
    folder, url = deployed
    [container] = podman(
        "ps", "-q", "--filter", LABEL, "--filter", "label=com.docker.compose.service=workers"
    ).stdout.split()
    watch = StartWatch({"workers": container})
    job = queue_job(url, "warm")
    watch.pause(job)  # the job is mid-run until the warm shutdown has begun
    try:
        started = time.monotonic()
        stop = in_background(lambda: compose(folder, "stop", "workers"))
        wait_for(lambda: "Warm shutdown" in watch.since("workers"), 60, "the warm shutdown")
    finally:
        watch.resume()
    stop.result(timeout=120)
    assert time.monotonic() - started < 70
    text = watch.since("workers")
    assert text.count(f"Lazy job {job} completed") == 1, text[-3000:]
    assert text.index("Warm shutdown") < text.index(f"Lazy job {job} completed"), text[-3000:]
    assert "WorkerLostError" not in text


def test_the_containers_nginx_is_the_outermost_proxy(deployed):
    # the client reaches it directly: no sender's X-Forwarded-Proto is believed
    folder, _ = deployed
    conf = compose(folder, "exec", "-T", "www", "cat", "/home/dotcloud/platform/nginx.conf").stdout
    geo = re.search(r"geo \$from_our_proxy \{(.*?)\}", conf, re.S)
    assert geo and geo.group(1).split() == ["default", "0;"], conf


def test_down_leaves_nothing_running_and_volumes_keep_the_data(deployed):
    folder, _ = deployed
    compose(folder, "down")
    assert podman("ps", "-a", "-q", "--filter", LABEL).stdout.split() == []
    assert f"{APP}_db-data" in project_volumes()
