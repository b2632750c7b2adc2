"""One code build or image removal at a time (images.LAYERS_LOCK): a removal never runs beside a
build, whose cached layers Podman could remove with it. Hand-written fakes, no engine."""

import tempfile
import threading

import pytest

from backing_services.buildlock import building
from backing_services.errors import EngineError
from platform_sim.containers import images

BUILD_FILE = "www:\n  type: python\ndb:\n  type: postgresql\n"


class FakePodman:
    """Records the commands it is given; every one succeeds."""

    def __init__(self) -> None:
        self.commands: list[tuple[str, ...]] = []

    def check(self) -> None:
        """The engine is there."""

    def run(self, *args: str, check: bool = True) -> None:
        self.commands.append(args)


@pytest.fixture(autouse=True)
def private_locks(tmp_path, monkeypatch):
    """The locks of this test only (lock files live in the temporary folder)."""
    folder = tmp_path / "locks"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))


def lock_is_held() -> bool:
    try:
        with building(images.LAYERS_LOCK, timeout=0):
            return False
    except EngineError:
        return True


def test_every_image_of_a_build_is_built_holding_the_layer_lock(tmp_path, monkeypatch):
    app = tmp_path / "app"
    app.mkdir()
    (app / "dotcloud.yml").write_text(BUILD_FILE)
    held = []
    monkeypatch.setattr(images, "ensure_base_image", lambda podman, base, say: "localhost/base:1")
    monkeypatch.setattr(images, "_build_code", lambda *args: held.append(lock_is_held()))
    monkeypatch.setattr(
        images, "data_image", lambda *args, **kwargs: held.append(lock_is_held()) or "source"
    )
    podman = FakePodman()
    built = images.build_images(app, "app", podman=podman)
    assert held == [True, True]
    assert sorted(built.names) == ["db", "www"]
    assert not lock_is_held()  # released once the build is over


def test_a_removal_waits_for_the_build_under_way_then_removes_each_image_once():
    podman = FakePodman()
    with building(images.LAYERS_LOCK):
        remover = threading.Thread(
            target=images.remove_images, args=(["localhost/a-www:1", "localhost/a-www:1",
                                                "localhost/a-db:1"], podman),
        )  # fmt: skip
        remover.start()
        remover.join(1.0)
        assert remover.is_alive() and podman.commands == []
    remover.join(10)
    assert not remover.is_alive()
    assert podman.commands == [("rmi", "localhost/a-www:1"), ("rmi", "localhost/a-db:1")]
