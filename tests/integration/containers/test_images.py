"""image build on real Podman: one image per service, incremental rebuilds, failures."""

from __future__ import annotations

import json
import re

import pytest

from backing_services.buildlock import building
from backing_services.podman import BASE_IMAGE
from platform_sim.containers.images import LAYERS_LOCK, remove_images
from tests.integration.platform_sim.conftest import REPO, copy_tinyapp, run_cli

from .conftest import APP, listed_images, podman

pytestmark = pytest.mark.integration


def test_one_image_per_service_named_app_service_revision(built):
    names, _ = built
    revision = names[0].rsplit(":", 1)[1]
    assert re.fullmatch(r"[0-9a-f]{12}", revision)
    assert names == [
        f"localhost/{APP}-{service}:{revision}" for service in ("www", "workers", "db", "broker")
    ]
    for name in names:
        assert podman("image", "exists", name, check=False).returncode == 0


def layers(image: str) -> list[str]:
    shown = podman("image", "inspect", "--format", "{{json .RootFS.Layers}}", image).stdout
    return json.loads(shown)


def test_the_code_images_share_their_system_and_virtualenv_layers(built):
    names, _ = built
    www, workers = layers(names[0]), layers(names[1])
    base = layers(BASE_IMAGE)
    shared = next(n for n, (a, b) in enumerate(zip(www, workers, strict=False)) if a != b)
    assert www[: len(base)] == base
    # the packages (apt), requirements.txt and the virtualenv (pip): built once for both
    assert shared == len(base) + 3, (len(base), shared, len(www))


def test_a_rebuild_of_the_same_tree_reuses_every_layer(sim_home, built):
    names, _ = built
    again = run_cli(sim_home, "-A", APP, "image", "build", str(REPO), check=True, timeout=900)
    assert again.stdout.split() == names
    lines = again.stderr.splitlines()
    runs = [n for n, line in enumerate(lines) if re.search(r"STEP \d+/\d+: RUN ", line)]
    assert runs, again.stderr[-2000:]
    for number in runs:  # the virtualenv included: nothing ran again
        assert "Using cache" in lines[number + 1], lines[number : number + 3]


def test_a_failing_step_names_service_and_step_and_tags_nothing(sim_home, tmp_path):
    app = copy_tinyapp(tmp_path)
    (app / "requirements.txt").write_text("minestrone-no-such-package-anywhere==0.0.1\n")
    result = run_cli(sim_home, "-A", "brokenimg", "image", "build", str(app), timeout=900)
    assert result.returncode == 5, result.stderr[-2000:]
    assert re.search(r"error: \[\w+\] podman build exited with status \d+", result.stderr)
    assert "minestrone-no-such-package-anywhere" in result.stderr.split("error:")[-1]
    listed = "\n".join(listed_images("{{.Repository}}"))
    assert "brokenimg" not in listed


def test_a_type_that_cannot_be_containerized_is_refused_before_building(sim_home, tmp_path):
    app = copy_tinyapp(tmp_path)
    with open(app / "dotcloud.yml", "a") as handle:
        handle.write("\nsearch:\n  type: mongodb\n")
    result = run_cli(sim_home, "-A", "mongoimg", "image", "build", str(app))
    assert result.returncode == 3
    assert 'Service "search" has type "mongodb", which image build cannot containerize' in (
        result.stderr
    )
    assert "Building" not in result.stderr


PLANTED = (
    "import os, sys\nprint(f'PLANTED {__name__} uid={os.getuid()}', file=sys.stderr, flush=True)\n"
)


def test_started_as_root_the_image_runs_none_of_the_apps_files_as_root(built, tmp_path):
    names, _ = built
    # The app's tree with a platform_sim/containers/entry.py, json.py and yaml.py of its own,
    # owned by the app's account as the image's code is: a thin layer over the built image.
    for name in ("json.py", "yaml.py", "container_entry.py"):
        (tmp_path / name).write_text(PLANTED)
    (tmp_path / "Containerfile").write_text(
        f"FROM {names[0]}\n"
        "COPY --chown=10001:10001 json.py yaml.py /home/dotcloud/code/\n"
        "COPY --chown=10001:10001 container_entry.py "
        "/home/dotcloud/code/platform_sim/containers/entry.py\n"
    )
    planted = f"localhost/{APP}-planted:test"
    with building(LAYERS_LOCK):  # never beside another build's removal of its layers
        podman("build", "-q", "-t", planted, str(tmp_path))
    try:
        # no environment: postinstall, the first thing run as the account, stops the start
        result = podman("run", "--rm", "--user", "0", planted, check=False, timeout=300)
    finally:
        remove_images([planted])
    output = result.stdout + result.stderr
    assert "uid=0" not in output, output[-3000:]
    assert "[platform] running postinstall" in output, output[-3000:]  # root's part is done
