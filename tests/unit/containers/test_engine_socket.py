"""Our Podman API for testcontainers: its settings, and cleanup by label."""

import os
import subprocess

from backing_services import engine_socket
from backing_services.podman import LABEL


class RecordingPodman:
    """A hand-written fake of Podman: canned `ps` output, every command recorded."""

    def __init__(self, listing: str) -> None:
        self.listing = listing
        self.calls: list[tuple[str, ...]] = []

    def run(self, *args, check=True, timeout=300):
        self.calls.append(args)
        out = self.listing if args[0] == "ps" else ""
        return subprocess.CompletedProcess(args, 0, out, "")


def test_testcontainers_is_pointed_at_the_socket_without_ryuk():
    assert engine_socket.docker_settings("unix:///tmp/x.sock") == {
        "DOCKER_HOST": "unix:///tmp/x.sock",
        "TESTCONTAINERS_RYUK_DISABLED": "true",
        "TESTCONTAINERS_CONNECTION_MODE": "docker_host",
    }


def test_every_container_is_labelled_with_its_session():
    assert engine_socket.test_labels() == {
        LABEL: "testcontainers",
        f"{LABEL}.session": str(os.getpid()),
    }


def test_leftovers_of_dead_sessions_are_removed_with_their_volumes_live_ones_kept():
    mine, dead = os.getpid(), 2**22 + 12345  # beyond pid_max: not a live process
    podman = RecordingPodman(f"aaa {mine}\nbbb {dead}\nccc notapid\n")
    assert engine_socket.remove_labelled(podman, only_dead=True) == 2
    assert podman.calls[-1] == ("rm", "--force", "--volumes", "bbb", "ccc")
    ps = podman.calls[0]
    assert ps[:4] == ("ps", "-a", "--filter", f"label={LABEL}=testcontainers")


def test_a_session_removes_only_its_own_containers():
    podman = RecordingPodman(f"aaa {os.getpid()}\nbbb 1\n")
    assert engine_socket.remove_labelled(podman, pid=os.getpid()) == 1
    assert podman.calls[-1] == ("rm", "--force", "--volumes", "aaa")


def test_nothing_to_remove_runs_no_rm():
    podman = RecordingPodman("")
    assert engine_socket.remove_labelled(podman) == 0
    assert [call[0] for call in podman.calls] == ["ps"]


def test_an_image_variable_names_the_image_to_use():
    from backing_services.containers import default_image

    env = {"MINESTRONE_POSTGRES_IMAGE": "postgres:15", "DOCKER_HOST": "unix:///x"}
    assert default_image("postgresql", "postgres:15-official", env) == "postgres:15"


def test_on_a_docker_engine_of_the_users_the_official_images_are_used():
    from backing_services.containers import default_image

    env = {"DOCKER_HOST": "unix:///var/run/docker.sock"}
    assert default_image("rabbitmq", "rabbitmq:3.10", env) == "rabbitmq:3.10"
