"""The tutorial's story on Compose on each pair of database and broker beyond the default one: a
copy of this repository whose build file names the pair's kinds, its images built, exported,
brought up with podman-compose (one ``up``), the form's job run by the worker on the pair's
broker and listed SUCCESS with its routing key on the admin's Tasks page, the worker on the
Workers page, a waiting job revoked and running ones terminated from the admin, and nothing left
by ``down -v``.

One class per pair, its tests in order against one Compose project; the default pair's story
is test_compose_story's. The code images reuse the layers of the session's build (the
requirements are the same): only the code and the data services' tags are new.
"""

from __future__ import annotations

import json
import re

import pytest

from backing_services.ports import free_ports
from bench.push import COPY_SKIPS, set_kinds
from platform_sim.builder import upload
from platform_sim.kinds import registry
from tests.integration.pairs import classes_per_pair
from tests.integration.platform_sim.conftest import REPO, run_cli, wait_for
from tests.integration.platform_sim.test_story_pairs import JOB_SECONDS, TRANSPORTS
from tests.integration.story_steps import revoke_and_terminate

from .conftest import (
    build_images,
    compose,
    podman,
    project_containers,
    project_volumes,
    remove_images,
    remove_leftovers,
)
from .test_compose_story import logged_in_admin, logs, run_the_story

pytestmark = pytest.mark.integration
ONLINE = re.compile(r">celery@[^<]+</a></th><td[^>]*><span[^>]*>ONLINE<")  # a Workers row


def pair_source(tmp_path_factory, kinds: dict[str, str]):
    """A copy of this repository (without the local environments) with the pair's kinds."""
    source = tmp_path_factory.mktemp("pair_src") / "minestrone"
    upload.copy_tree(REPO, source, upload.ignore_patterns(REPO) + COPY_SKIPS)
    set_kinds(source, kinds)
    return source


class ComposeOnPair:
    """The story on Compose project ``APP``, its build file's services of ``KINDS``."""

    APP: str
    KINDS: dict[str, str]

    @pytest.fixture(scope="class")
    @classmethod
    def deployed(cls, sim_home, built, tmp_path_factory):
        """The project up: its folder and URL; down, with its volumes and images, at the end.
        Built after the session's images (``built``), whose layers it reuses: the kube-play
        tests, the run's longest chain, wait for those images and never for a pair's."""
        source = pair_source(tmp_path_factory, cls.KINDS)
        remove_leftovers(cls.APP)
        folder = tmp_path_factory.mktemp("pair_deploy")
        port = free_ports(1)[0]
        try:
            build_images(sim_home, cls.APP, source)
            run_cli(
                sim_home, "-A", cls.APP, "env", "set", f"SOUP_LAZY_JOB_SECONDS={JOB_SECONDS}",
                check=True,
            )  # fmt: skip
            run_cli(
                sim_home, "-A", cls.APP, "export", "compose", str(source), "-o", str(folder),
                "--force", "--port", str(port), check=True,
            )  # fmt: skip
            compose(folder, "up", "-d")
            yield folder, f"http://127.0.0.1:{port}/"
        finally:
            compose(folder, "down", "-v", check=False)
            remove_leftovers(cls.APP)
            remove_images(cls.APP)

    def test_the_services_are_the_pairs(self, deployed):
        folder, _ = deployed
        compose_file = (folder / "compose.yaml").read_text()
        environment = json.loads((folder / "workers.environment.json").read_text())
        for name, kind in self.KINDS.items():
            assert f"localhost/{self.APP}-{name}:" in compose_file
            tag = registry.kind(kind).tag
            assert environment[f"DOTCLOUD_{name.upper()}_{tag}_HOST"] == name

    def test_the_tutorial_story(self, deployed):
        folder, url = deployed
        admin, row = run_the_story(folder, url, "pair")
        transport = f".> transport:   {TRANSPORTS[self.KINDS['broker']]}"
        assert transport in logs(folder, "workers")  # the worker's broker
        assert "tasks.soup" in row  # the form's routing key
        workers = "/admin/monitor/workerstate/"
        wait_for(lambda: ONLINE.search(admin.get(workers)), 60, "the Workers page to list it")

    def test_a_waiting_job_revoked_and_running_ones_terminated_never_complete(self, deployed):
        folder, url = deployed
        admin = logged_in_admin(folder, url)
        revoke_and_terminate(admin, lambda: logs(folder, "workers"), JOB_SECONDS)

    def test_down_with_volumes_leaves_nothing(self, deployed):
        folder, _ = deployed
        compose(folder, "down", "-v")
        assert project_containers(self.APP) == []
        assert project_volumes(self.APP) == []
        networks = podman("network", "ls", "--format", "{{.Name}}").stdout.split()
        assert [name for name in networks if name.startswith(f"{self.APP}_")] == []


globals().update(classes_per_pair(ComposeOnPair, lambda pair: "compose" + pair.replace("-", "")))
