"""The tutorial's story on THIS repository pushed with platform_sim on each pair of database and
broker beyond the default one (MySQL/MariaDB or PostgreSQL, Redis or RabbitMQ): ``info`` naming
both services, ``logs`` showing each server's own log, the editor form, the worker, the admin's
Tasks page with the form's routing key, the Workers page, a waiting job revoked and running
ones terminated from the admin, and ``destroy``.

One push per pair, shared by its class's tests (run in order); one class per pair, so that the
suite's workers push them side by side. The default pair's story is test_tutorial_story's.
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

from ..pairs import classes_per_pair
from ..story_steps import revoke_and_terminate
from .conftest import REPO, Browser, info, leftover_processes, run_cli, wait_for
from .test_tutorial_story import ADMIN_LINE, queue_job, task_row

pytestmark = pytest.mark.integration
# Long enough to revoke a waiting job and terminate running ones before a slot frees, short for
# the story's wait.
JOB_SECONDS = 20
TRANSPORTS = {"redis": "redis://", "rabbitmq": "amqp://"}  # the worker's banner, by broker kind
# What each server writes in its own log once it serves (``logs`` shows it, not the host's only).
SERVER_READY = {
    "postgresql": "database system is ready to accept connections",
    "mysql": "mariadbd: ready for connections",
    "redis": "Ready to accept connections",
    "rabbitmq": "Server startup complete",
}


class StoryOnPair:
    """The story on one pair: ``APP`` pushed with dotcloud.yml's services of ``KINDS``."""

    APP: str
    KINDS: dict[str, str]

    @pytest.fixture(scope="class")
    @classmethod
    def pushed(cls, sim_home, tmp_path_factory) -> Browser:
        """The app pushed; the admin's browser, logged in."""
        folder = tmp_path_factory.mktemp("src") / "minestrone"  # without the local environments
        upload.copy_tree(REPO, folder, upload.ignore_patterns(REPO) + COPY_SKIPS)
        set_kinds(folder, cls.KINDS)
        key = secrets.token_urlsafe(40)
        run_cli(
            sim_home, "-A", cls.APP, "env", "set", f"DJANGO_SECRET_KEY={key}",
            f"SOUP_LAZY_JOB_SECONDS={JOB_SECONDS}", check=True,
        )  # fmt: skip
        result = run_cli(sim_home, "-A", cls.APP, "push", str(folder), check=True, timeout=900)
        admin = Browser(info(sim_home, cls.APP)["url"])
        password = Path(ADMIN_LINE.search(result.stdout).group(1)).read_text().strip()
        admin.post_form("/admin/login/?next=/admin/", {"username": "admin", "password": password})
        return admin

    def worker_logs(self, sim_home) -> str:
        return run_cli(
            sim_home, "-A", self.APP, "logs", "workers", "--no-follow", "-n", "300"
        ).stdout

    def test_info_names_both_services(self, sim_home, pushed):
        services = info(sim_home, self.APP)["services"]
        for name, kind in self.KINDS.items():
            assert services[name]["type"] == kind
            assert services[name]["instances"][0]["status"] == "running"
        text = run_cli(sim_home, "-A", self.APP, "info", check=True).stdout
        for name, kind in self.KINDS.items():
            assert re.search(rf"(?m)^{name}\.0 +{kind} +running ", text), text
        code = "from django.db import connection; print('database:', connection.vendor)"
        vendor = run_cli(
            sim_home, "-A", self.APP, "run", "www", "--", "python", "minestrone/manage.py",
            "shell", "-c", code, check=True,
        )  # fmt: skip
        assert f"database: {self.KINDS['db']}" in vendor.stdout, vendor.stdout

    def test_logs_of_each_data_service_show_its_servers_own_log(self, sim_home, pushed):
        for name, kind in self.KINDS.items():
            text = run_cli(
                sim_home, "-A", self.APP, "logs", name, "--no-follow", "-n", "500", check=True
            ).stdout
            assert f"[{name}.0] " in text and SERVER_READY[kind] in text, text[-3000:]

    def test_the_tutorial_story(self, sim_home, pushed):
        admin = pushed
        job = queue_job(admin.base, "kinds")
        wait_for(
            lambda: f"Lazy job {job} completed" in self.worker_logs(sim_home), 90, f"{job} to run"
        )
        row = wait_for(
            lambda: task_row(admin.get(f"/admin/monitor/taskstate/?q={job}"), job),
            60,
            "the admin's Tasks page to list the job as SUCCESS",
        )
        assert "tasks.soup" in row  # the form's routing key
        transport = f".> transport:   {TRANSPORTS[self.KINDS['broker']]}"
        assert transport in self.worker_logs(sim_home)  # the worker's broker
        listed = rf">celery@{self.APP}-workers-0-d\d+</a></th><td[^>]*><span[^>]*>ONLINE<"
        # ONLINE lasts a few seconds past the camera's last heartbeat: asked until it is seen
        wait_for(
            lambda: re.search(listed, admin.get("/admin/monitor/workerstate/")),
            60,
            "the Workers page to list the worker ONLINE",
        )

    def test_a_waiting_job_revoked_and_running_ones_terminated_never_complete(
        self, sim_home, pushed
    ):
        revoke_and_terminate(pushed, lambda: self.worker_logs(sim_home), JOB_SECONDS)

    def test_destroy_leaves_nothing(self, sim_home, pushed):
        network = Network(sim_home / self.APP)
        run_cli(sim_home, "-A", self.APP, "destroy", "-y", check=True)
        assert not (sim_home / self.APP).exists()
        assert not Path(f"/sys/class/net/{network.bridge}").exists()
        netns = [name for name in os.listdir("/run/netns") if name.startswith(f"ps{network.tag}-")]
        assert not netns
        assert leftover_processes(sim_home) == []


globals().update(classes_per_pair(StoryOnPair, lambda pair: f"soup-{pair}"))
