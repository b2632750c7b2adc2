"""The export kubernetes manifests of this repository run under `podman kube play` (the
Deployments exactly as written): several replicas migrating at once, the tutorial's story,
two worker pods sharing jobs, a worker pod deleted mid-job finishing it once, a worker pod
killed mid-job losing nothing, and `down` leaving
nothing. The tests of this module run in order against one local run."""

from __future__ import annotations

import contextlib
import re
import secrets
import time
from pathlib import Path

import pytest
import yaml

from backing_services.engine_socket import OWNER
from backing_services.podman import LABEL
from platform_sim.apps import AppRecord, app_paths
from platform_sim.containers.export.kubernetes.files import previous_secrets
from platform_sim.containers.export.kubernetes.manifests import KubernetesExport, KubernetesRequest
from platform_sim.containers.facts import CODE_UID
from platform_sim.containers.kube_play.local import LocalRun
from tests.integration.app_role import check_role_as_superuser
from tests.integration.browser import check_deployed
from tests.integration.platform_sim.conftest import REPO, Browser, wait_for
from tests.pace import within

from .conftest import APP, StartWatch, in_background, podman, process_uids, runs

ANONYMOUS = re.compile(r"[0-9a-f]{64}")  # an anonymous volume's name

pytestmark = pytest.mark.integration


def export_to(
    folder: Path,
    sim_home: Path,
    built,
    scale: dict[str, int],
    app: str = APP,
    source=REPO,
    overrides: dict[str, str] | None = None,
    **options,
) -> None:
    """Export ``app`` of ``source`` as the README does: no admin password given, the export
    generates it; ``overrides``: variables set for this export only."""
    tag = built[0][0].rsplit(":", 1)[1]  # the images built, even if the tree changed since
    record = AppRecord.load(app_paths(app, {"PLATFORM_SIM_HOME": str(sim_home)}))
    variables = dict(record.variables)
    variables.pop("MINESTRONE_ADMIN_PASSWORD", None)
    variables.update(overrides or {})
    request = KubernetesRequest(
        folder=source, out=folder, variables=variables, scale=scale, tag=tag, **options
    )
    KubernetesExport(app, request).export()


def admin_password(pod: str = "www-pod-0") -> str:
    """The README's command under kube-play: ``podman exec <pod>-www printenv …``."""
    return podman("exec", f"{pod}-www", "printenv", "MINESTRONE_ADMIN_PASSWORD").stdout.strip()


def logged_in(url: str, password: str) -> bool:
    admin = Browser(url)
    page = admin.post_form(
        "/admin/login/?next=/admin/", {"username": "admin", "password": password}
    )
    return "/admin/logout/" in page


def inventory() -> dict[str, set[str]]:
    """Every pod, container, secret, network and volume Podman has now (but the test servers)."""
    listed = {
        "pods": ("pod", "ps", "--format", "{{.Name}}"),
        "containers": ("ps", "-a", "--format", "{{.Names}}"),
        "secrets": ("secret", "ls", "--format", "{{.Name}}"),
        "networks": ("network", "ls", "--format", "{{.Name}}"),
        "volumes": ("volume", "ls", "--format", "{{.Name}}"),
    }
    others = testcontainers()
    compose = {kind: compose_objects(*args) for kind, args in listed.items()}
    found = {kind: set(podman(*args).stdout.split()) for kind, args in listed.items()}
    found["containers"] -= others | testcontainers()  # another worker's servers come and go
    # and so do the Compose projects other workers bring up and down meanwhile
    found = {
        kind: names - compose[kind] - compose_objects(*listed[kind])
        for kind, names in found.items()
    }
    found["pods"] = {name for name in found["pods"] if not name.startswith("pod_")}
    # anonymous volumes (64 hex digits) have no owner to tell by: kube-play's own are checked
    # by name (what ``down`` removed), the others' containers come and go
    found["volumes"] = {name for name in found["volumes"] if not ANONYMOUS.fullmatch(name)}
    return found


def compose_objects(*listing: str) -> set[str]:
    """What a ``podman … ls`` listing shows of any Compose project (podman-compose labels its
    containers, networks and volumes with their project)."""
    if listing[0] in ("pod", "secret"):
        return set()
    labelled = [*listing, "--filter", "label=io.podman.compose.project"]
    return set(podman(*labelled).stdout.split())


def testcontainers() -> set[str]:
    """The servers other tests run meanwhile (pytest-xdist workers, MINESTRONE_SERVICES=docker)."""
    labelled = f"label={LABEL}={OWNER}"
    return set(podman("ps", "-a", "--filter", labelled, "--format", "{{.Names}}").stdout.split())


# A job long enough for a pod to be stopped mid-job however loaded the machine (podman's
# logs and stop take seconds then): the app's 3 s, stretched
JOB_SECONDS = min(30, max(3, round(within(2))))
BEFORE: dict[str, set[str]] = {}  # what Podman had before the module's run


@pytest.fixture(scope="module")
def cluster(sim_home, built, tmp_path_factory):
    folder = tmp_path_factory.mktemp("kube") / "manifests"
    export_to(folder, sim_home, built, {"www": 2, "workers": 1},
              overrides={"SOUP_LAZY_JOB_SECONDS": str(JOB_SECONDS)})
    BEFORE.update(inventory())
    with played(folder) as (run, url):
        yield run, folder, url


@contextlib.contextmanager
def played(folder: Path):
    """The manifests in ``folder`` up under kube-play: the runner and the site's URL; down at
    the end, even when ``up`` failed half-way."""
    run = LocalRun(folder, say=lambda line: None)
    try:
        yield run, run.up()
    finally:
        if (folder / ".kube-play").exists():
            run.down()


def logs(pod: str, container: str = "workers") -> str:
    return podman("logs", f"{pod}-{container}", check=False).stdout


def queue_job(url: str, prefix: str) -> str:
    job = f"{prefix}-{secrets.token_hex(4)}"
    Browser(url).post_form("/", {"job_name": job, "routing_key_name": "soup"})
    return job


def task_row(page: str, job: str) -> str | None:
    for row in re.findall(r"<tr[^>]*>.*?</tr>", page, re.S):
        if job in row and ">SUCCESS<" in row:
            return row
    return None


def test_replicas_starting_together_migrate_once(cluster):
    for pod in ("www-pod-0", "www-pod-1"):
        text = logs(pod, "www")
        assert "migrating the database" in text and "starting supervisord" in text, text[-2000:]
    counted = psql(
        "app", "SELECT count(*) - count(DISTINCT (app, name)) FROM django_migrations"
    ).strip()
    assert counted == "0"


def psql(database: str, query: str) -> str:
    """The superuser's ``psql -tA`` in the database's pod."""
    return podman("exec", "db-db", "psql", "-U", "root", "-d", database, "-tAc", query).stdout


def test_the_app_logs_in_as_a_role_owning_its_database_and_nothing_more(cluster):
    _, folder, _ = cluster
    stored = previous_secrets(folder)
    superuser = stored["db-credentials"]["POSTGRES_PASSWORD"]
    for service in ("www", "workers"):
        environment = stored[f"{service}-environment"]
        assert superuser not in str(environment)
        assert environment["DOTCLOUD_DB_SQL_LOGIN"] == "app"
    check_role_as_superuser(psql, "app", environment["DOTCLOUD_DB_SQL_DATABASE"])


def test_the_tutorial_story_on_the_manifests(cluster):
    _, _, url = cluster
    job = queue_job(url, "kube")
    wait_for(lambda: f"Lazy job {job} completed" in logs("workers-pod-0"), 120, f"{job} to run")
    admin = Browser(url)
    admin.post_form(
        "/admin/login/?next=/admin/", {"username": "admin", "password": admin_password()}
    )
    # SUCCESS (the worker's event) and the routing key (the site's task-sent event) reach the
    # camera separately, possibly in different snapshots: wait for both
    wait_for(
        lambda: (
            "tasks.soup" in (task_row(admin.get(f"/admin/monitor/taskstate/?q={job}"), job) or "")
        ),
        120,
        "the admin's Tasks page to list the job as SUCCESS with its routing key tasks.soup",
    )


def test_the_pages_on_the_manifests_load_whole_live_and_fit_both_widths(cluster):
    """The story from the form to SUCCESS without a reload, then every page's stylesheets,
    scripts and images served right through the router and the pods' nginx, no CSP violation,
    at both widths (screenshots kube-play-*.png)."""
    _, _, url = cluster
    assert check_deployed(url, admin_password(), "kube-play") == {}


def test_the_pods_run_the_apps_code_as_its_own_account_never_as_root(cluster):
    for container, programs in (
        ("www-pod-0-www", {"nginx", "gunicorn"}),
        ("workers-pod-0-workers", {"celery"}),
    ):
        owners = process_uids(container)
        assert runs(owners, *programs), owners
        assert set().union(*owners.values()) == {CODE_UID}, owners


def test_the_admin_password_survives_new_www_pods(cluster):
    run, folder, url = cluster
    password = admin_password()
    assert len(password) >= 20 and admin_password("www-pod-1") == password
    assert logged_in(url, password)
    for pod in ("www-pod-0", "www-pod-1"):  # what a rollout or a lost node does: new pods
        podman("pod", "rm", "-f", pod)
    assert run.up() == url
    assert "migrating the database" in logs("www-pod-0", "www")  # a new pod, started afresh
    assert admin_password() == password
    assert logged_in(url, password)
    assert not logged_in(url, password + "x")
    for pod in ("www-pod-0", "www-pod-1"):
        assert password not in logs(pod, "www")


def test_two_worker_pods_share_the_jobs(cluster, sim_home, built):
    run, folder, url = cluster
    export_to(folder, sim_home, built, {"www": 2, "workers": 2})
    assert run.up() == url
    jobs = [queue_job(url, "scaled") for _ in range(8)]

    def ran_on_both():
        texts = [logs("workers-pod-0"), logs("workers-pod-1")]
        done = [job for job in jobs if any(f"Lazy job {job} completed" in t for t in texts)]
        on_both = all(any(f"Lazy job {job} completed" in t for job in jobs) for t in texts)
        return len(done) == len(jobs) and on_both

    wait_for(ran_on_both, 180, "eight jobs to complete, some on each worker pod")


def test_a_worker_pod_deleted_mid_job_finishes_it_once(cluster):
    """What a scale-down does to a pod: SIGTERM, then the grace period. Celery's warm shutdown
    lets the running job finish and acknowledges it (late acks), so it is never run again."""
    run, folder, url = cluster
    deployment = yaml.safe_load((folder / "40-deployments.yaml").read_text().split("---")[-1])
    grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    pods = ("workers-pod-0", "workers-pod-1")
    watch = StartWatch({pod: f"{pod}-workers" for pod in pods})
    job = queue_job(url, "deleted")
    started = watch.pause(job)  # the job is mid-run until the warm shutdown has begun
    try:
        began = time.monotonic()
        stop = in_background(  # kubectl delete pod
            lambda: podman("stop", "-t", str(grace), f"{started}-workers", timeout=grace + 60)
        )
        wait_for(lambda: "Warm shutdown" in watch.since(started), 60, "the warm shutdown")
    finally:
        watch.resume()
    stop.result(timeout=grace + 90)
    stopped_after = time.monotonic() - began
    text = watch.since(started)
    podman("pod", "rm", "-f", started)
    try:
        [survivor] = [p for p in pods if p != started]
        # more than a job: an unacknowledged job would run again on the survivor
        time.sleep(JOB_SECONDS + 5)
        assert text.count(f"Lazy job {job} completed") == 1, text[-3000:]
        assert f"Lazy job {job} completed" not in logs(survivor)
        # the signal came mid-job: the warm shutdown was logged before the job's end
        assert text.index("Warm shutdown") < text.index(f"Lazy job {job} completed"), text[-3000:]
        assert stopped_after < grace  # stopped by itself, not killed at the end of the grace
    finally:  # the deleted pod back, as its ReplicaSet would make it (the next tests need two)
        assert run.up() == url


def test_a_worker_pod_killed_mid_job_loses_no_job(cluster):
    _, _, url = cluster
    pods = ("workers-pod-0", "workers-pod-1")
    watch = StartWatch({pod: f"{pod}-workers" for pod in pods})
    job = queue_job(url, "killed")
    started = watch.pause(job)  # mid-run when the pod is killed
    try:
        podman("pod", "kill", started)
    finally:
        watch.resume()
    podman("pod", "rm", "-f", started)
    [survivor] = [p for p in pods if p != started]
    wait_for(
        lambda: f"Lazy job {job} completed" in logs(survivor),
        180,
        f"{job} to be delivered again to {survivor} and completed",
    )


def test_the_pods_nginx_believes_only_what_the_router_says(cluster):
    # the router, as an Ingress, sets X-Forwarded-Proto from its own scheme; the pod believes it
    conf = podman("exec", "www-pod-0-www", "cat", "/home/dotcloud/platform/nginx.conf").stdout
    geo = re.search(r"geo \$from_our_proxy \{(.*?)\}", conf, re.S)
    assert geo and "0.0.0.0/0 1;" in geo.group(1), conf
    router = podman("exec", f"{APP}-router", "cat", "/etc/nginx/router.conf").stdout
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in router, router


def test_down_leaves_nothing(cluster):
    run, folder, _ = cluster
    removed = run.down()
    assert not (folder / ".kube-play").exists()
    pods = podman("pod", "ps", "--format", "{{.Name}}").stdout.split()
    for pod in ("db", "broker", "www-pod-0", "www-pod-1", "workers-pod-0", "workers-pod-1"):
        assert pod not in pods
    secrets_left = podman("secret", "ls", "--format", "{{.Name}}").stdout.split()
    assert not {"www-environment", "workers-environment", "db-credentials", "www-admin"} & set(
        secrets_left
    )
    volumes = set(podman("volume", "ls", "--format", "{{.Name}}").stdout.split())
    ours = {item.split(" ", 1)[1] for item in removed if item.startswith("volume ")}
    assert f"{APP}-data-db-0" in ours and len(ours) >= 4  # claims, and each pod's anonymous ones
    assert not ours & volumes
    networks = podman("network", "ls", "--format", "{{.Name}}").stdout.split()
    assert f"{APP}-kube-play" not in networks
    assert podman("ps", "-a", "--filter", f"name={APP}-router", "-q").stdout.split() == []
    # nothing new at all (volumes: only unused ones count; others' running containers hold theirs)
    after = inventory()
    new = {kind: after[kind] - BEFORE[kind] for kind in after}
    unused = podman("volume", "ls", "--filter", "dangling=true", "--format", "{{.Name}}")
    new["volumes"] &= set(unused.stdout.split())
    assert new == {kind: set() for kind in new}
