"""Image recipes rendered from the build file, checked as data (no engine involved)."""

import pytest

from backing_services.images import recipe_digest, render_recipe
from backing_services.podman import Podman
from platform_sim.appfile.buildfile import parse
from platform_sim.containers.images import (
    build_images,
    check_containerizable,
    image_name,
    render_containerfile,
    system_packages,
    tree_revision,
)
from platform_sim.errors import HostError, UnsupportedService

BUILD_FILE = """\
www:
  type: python
  systempackages: [libjpeg-dev]
  requirements: [requests==2.32.3]
workers:
  type: python-worker
  approot: app
db:
  type: postgresql
"""


def services():
    return parse(BUILD_FILE).services


PACKAGES = system_packages(parse(BUILD_FILE))


def test_image_names_are_localhost_app_service_revision():
    assert image_name("minestrone", "www", "0123abcd") == "localhost/minestrone-www:0123abcd"


def test_a_type_we_cannot_containerize_is_refused_by_name_before_building():
    with pytest.raises(UnsupportedService) as caught:
        check_containerizable(parse(BUILD_FILE + "cache:\n  type: mongodb\n"))
    assert 'Service "cache" has type "mongodb", which image build cannot containerize' in str(
        caught.value
    )
    assert caught.value.exit_code == 3


def test_the_web_recipe_layers_system_then_virtualenv_then_platform_then_code():
    text = render_containerfile("app", services()["www"], "localhost/base:1", "", PACKAGES)
    assert [line for line in text.splitlines() if line[:1] != "#"][0] == "FROM localhost/base:1"
    order = [
        text.index("apt-get install"),
        text.index("COPY requirements.txt"),
        text.index("pip install"),
        text.index("COPY platform"),
        text.index("COPY --chown=10001:10001 code"),
    ]
    assert order == sorted(order)
    assert " nginx libjpeg-dev" in text
    assert "'gunicorn>=22' requests==2.32.3" in text
    assert "EXPOSE 8080" in text
    # the app's account owns its home, code and logs; the virtualenv stays root's
    assert "useradd --uid 10001 --user-group --home-dir /home/dotcloud" in text
    # recursive: Debian's nginx package leaves www-data's log files in /var/log/nginx
    assert "chown -R 10001:10001 /var/log/supervisor /var/log/nginx /home/dotcloud" in text
    assert "--chown" not in text[: text.index("COPY platform")]
    assert "ln -s code /home/dotcloud/current" in text
    assert "ln -s /opt/minestrone-env /home/dotcloud/env" in text  # ~/env holds no files
    assert "VOLUME /home/dotcloud/data" in text


def test_a_workers_approot_is_current_and_it_exposes_nothing():
    text = render_containerfile("app", services()["workers"], "b", "PIP_CERT=/ca ", PACKAGES)
    assert "EXPOSE" not in text
    assert "ln -s code/app /home/dotcloud/current" in text
    assert "PIP_CERT=/ca python3 -m venv" in text


def system_layer(text: str) -> list[str]:
    """The recipe's lines up to its virtualenv, comments left out."""
    lines = text[: text.index("COPY requirements.txt")].splitlines()
    return [line for line in lines if not line.startswith("#")]


def test_an_apps_code_services_share_one_system_layer_with_every_services_packages():
    build = parse(
        BUILD_FILE + "more:\n  type: python-worker\n  systempackages: [libpq-dev, libjpeg-dev]\n"
    )
    packages = system_packages(build)
    assert packages == ["nginx", "libjpeg-dev", "libpq-dev"]  # once each, nginx first
    layers = {
        name: system_layer(render_containerfile("app", service, "b", "", packages))
        for name, service in build.services.items()
        if service.is_code
    }
    assert layers["www"] == layers["workers"] == layers["more"]
    assert "nginx libjpeg-dev libpq-dev" in "\n".join(layers["www"])


def test_an_app_without_a_web_service_installs_no_nginx():
    build = parse("workers:\n  type: python-worker\n  systempackages: [gcc]\n")
    assert system_packages(build) == ["gcc"]


def test_the_revision_follows_the_tree(tmp_path):
    (tmp_path / "a.txt").write_text("one")
    first = tree_revision(tmp_path)
    assert tree_revision(tmp_path) == first
    (tmp_path / "a.txt").write_text("two")
    assert tree_revision(tmp_path) != first


@pytest.mark.parametrize("kind", ["postgresql", "rabbitmq"])
def test_data_recipes_have_a_real_readiness_check_and_never_turn_fsync_off(kind):
    files = render_recipe(kind, "localhost/base:1")
    assert files["Containerfile"].startswith("#")
    assert "FROM localhost/base:1" in files["Containerfile"]
    assert "HEALTHCHECK" in files["Containerfile"]
    assert "fsync" not in "".join(files.values())
    check = files["healthcheck"]
    assert ("SELECT 1" in check) if kind == "postgresql" else ("amqp.Connection" in check)


def test_a_data_image_tag_changes_with_its_recipe_or_base():
    files = render_recipe("postgresql", "b")
    assert recipe_digest(files, "id1") == recipe_digest(files, "id1")
    assert recipe_digest(files, "id1") != recipe_digest(files, "id2")
    assert recipe_digest({**files, "entrypoint": "x"}, "id1") != recipe_digest(files, "id1")


def test_without_podman_the_build_stops_with_exit_status_7_and_how_to_install(tmp_path):
    (tmp_path / "dotcloud.yml").write_text(BUILD_FILE)
    podman = Podman({"PATH": "/nowhere"}, which=lambda name, path: None)
    with pytest.raises(HostError, match="podman is not installed: install it with bin/bootstrap"):
        build_images(tmp_path, "app", podman=podman)
    assert HostError.exit_code == 7
