"""The engine module: our containers.conf, the checks that name what is missing."""

import subprocess
from pathlib import Path

import pytest

from backing_services.errors import EngineError, EngineMissing
from backing_services.podman import CONF, Podman, ensure_base_image, host_ca_bundle


def test_every_podman_command_uses_the_projects_own_containers_conf():
    podman = Podman({"PATH": "/usr/bin"})
    assert podman.env["CONTAINERS_CONF"] == str(CONF)
    text = CONF.read_text()
    assert 'runtime = "runc"' in text
    assert "default_ulimits = []" in text


@pytest.mark.parametrize("missing", ["podman", "runc"])
def test_a_missing_program_is_named_with_how_to_install_it(missing):
    def which(name, path):
        return None if name == missing else name

    podman = Podman({"PATH": "/nowhere"}, which=which)
    with pytest.raises(EngineMissing, match=f"{missing} is not installed: install it with bin/"):
        podman.check()


def test_debootstrap_is_only_required_to_build_the_base_image():
    def which(name, path):
        return None if name == "debootstrap" else f"/usr/bin/{name}"

    class Answering(Podman):
        def run(self, *args, check=True, timeout=300, stdin=None):
            missing = args[:2] == ("image", "exists") and args[2] != "localhost/other:1"
            return subprocess.CompletedProcess(["podman", *args], int(missing), "runc\n", "")

    podman = Answering({"PATH": "/usr/bin"}, which=which)
    podman.check()  # running and building from a base image that exists: no debootstrap
    assert ensure_base_image(podman, "localhost/other:1") == "localhost/other:1"
    with pytest.raises(EngineMissing, match="debootstrap is not installed"):
        ensure_base_image(podman)  # no base image yet: only building one needs debootstrap


def test_a_base_image_that_does_not_exist_is_refused_with_how_to_get_it():
    class Stub(Podman):
        def check(self):
            pass

        def image_exists(self, name):
            return False

    with pytest.raises(EngineError, match="--base python:3.11-bookworm: no such image"):
        ensure_base_image(Stub({}), "python:3.11-bookworm")


def test_the_hosts_ca_bundle_is_found_from_pip_settings(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("x")
    assert host_ca_bundle({"PIP_CERT": str(bundle)}) == bundle
    assert host_ca_bundle({"PIP_CERT": str(tmp_path / "none")}) in (
        None,
        Path("/etc/ssl/certs/ca-certificates.crt"),
    )


def test_debootstrap_runs_in_a_mount_namespace_of_its_own(tmp_path):
    class Recording(Podman):
        streamed = []

        def check(self):
            pass

        def image_exists(self, name):
            return False

        def stream(self, argv, **kwargs):
            self.streamed.append(list(argv))

    podman = Recording({"PATH": "/usr/bin"}, which=lambda name, path: f"/usr/bin/{name}")
    ensure_base_image(podman)
    debootstrap = podman.streamed[0]
    assert debootstrap[:4] == ["/usr/bin/unshare", "--mount", "--propagation", "private"]
    assert debootstrap[4] == "/usr/bin/debootstrap"


def test_an_interrupted_step_lets_the_child_clean_up(tmp_path):
    cleaned = tmp_path / "cleaned"
    script = f'trap "touch {cleaned}; exit 0" TERM; echo ready; while :; do sleep 0.1; done'

    def say(line):
        if line == "ready":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Podman({"PATH": "/usr/bin:/bin"}).stream(
            ["sh", "-c", script], image="x", step="debootstrap", say=say
        )
    assert cleaned.exists()  # SIGTERM first: its traps (debootstrap's umounts) ran
