"""The tutorial's story on Compose with MySQL (MariaDB) and Redis: a copy of this repository
whose build file names a mysql database and a redis broker, its images built, exported, brought
up with podman-compose (one ``up``), the form's job run by the worker on Redis and listed SUCCESS
with its routing key on the admin's Tasks page, the worker on the Workers page, and nothing left
by ``down -v``.

The tests of this module run in order against one Compose project; the default pair's story is
test_compose_story's.
"""

from __future__ import annotations

import json
import re

import pytest

from backing_services.ports import free_ports
from bench.push import COPY_SKIPS, set_kinds
from platform_sim.builder import upload
from tests.integration.pairs import OTHER_PAIRS
from tests.integration.platform_sim.conftest import REPO, run_cli, wait_for

from .conftest import (
    build_images,
    compose,
    podman,
    project_containers,
    project_volumes,
    remove_images,
    remove_leftovers,
)
from .test_compose_story import logs, run_the_story

pytestmark = pytest.mark.integration
APP = "composekinds"
KINDS = OTHER_PAIRS["mysql-redis"]
ONLINE = re.compile(r">celery@[^<]+</a></th><td[^>]*><span[^>]*>ONLINE<")  # a Workers row


@pytest.fixture(scope="module")
def deployed(sim_home, tmp_path_factory):
    source = tmp_path_factory.mktemp("kinds_src") / "minestrone"
    upload.copy_tree(REPO, source, upload.ignore_patterns(REPO) + COPY_SKIPS)
    set_kinds(source, KINDS)
    remove_leftovers(APP)
    folder = tmp_path_factory.mktemp("kinds_deploy")
    port = free_ports(1)[0]
    try:
        build_images(sim_home, APP, source)
        run_cli(
            sim_home, "-A", APP, "export", "compose", str(source), "-o", str(folder), "--force",
            "--port", str(port), check=True,
        )  # fmt: skip
        compose(folder, "up", "-d")
        yield folder, f"http://127.0.0.1:{port}/"
    finally:
        compose(folder, "down", "-v", check=False)
        remove_leftovers(APP)
        remove_images(APP)


def test_the_services_are_mysql_and_redis(deployed):
    folder, _ = deployed
    compose_file = (folder / "compose.yaml").read_text()
    environment = json.loads((folder / "workers.environment.json").read_text())
    for name, kind in KINDS.items():
        assert f"localhost/{APP}-{name}:" in compose_file
        assert environment[f"DOTCLOUD_{name.upper()}_{kind.upper()}_HOST"] == name


def test_the_tutorial_story_on_mysql_and_redis(deployed):
    folder, url = deployed
    admin, row = run_the_story(folder, url, "kinds")
    assert ".> transport:   redis://" in logs(folder, "workers")  # the worker's broker
    assert "tasks.soup" in row  # the form's routing key
    workers = "/admin/monitor/workerstate/"
    wait_for(lambda: ONLINE.search(admin.get(workers)), 60, "the Workers page to list it ONLINE")


def test_down_with_volumes_leaves_nothing(deployed):
    folder, _ = deployed
    compose(folder, "down", "-v")
    assert project_containers(APP) == []
    assert project_volumes(APP) == []
    networks = podman("network", "ls", "--format", "{{.Name}}").stdout.split()
    assert [name for name in networks if name.startswith(f"{APP}_")] == []
