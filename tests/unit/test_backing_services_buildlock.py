"""One builder per image at a time (backing_services/buildlock.py): the others wait, bounded."""

import os
import threading
import time

import pytest

from backing_services import buildlock
from backing_services.errors import EngineError


def test_a_second_builder_waits_for_the_first(tmp_path):
    order = []
    holding = threading.Event()

    def first():
        with buildlock.building("localhost/x:1", folder=tmp_path):
            holding.set()
            time.sleep(0.5)
            order.append("first done")

    thread = threading.Thread(target=first)
    thread.start()
    holding.wait(5)
    with buildlock.building("localhost/x:1", folder=tmp_path):
        order.append("second in")
    thread.join()
    assert order == ["first done", "second in"]


def test_another_image_does_not_wait(tmp_path):
    with (
        buildlock.building("localhost/x:1", folder=tmp_path),
        buildlock.building("localhost/y:1", folder=tmp_path, timeout=0),
    ):
        pass


def test_a_builder_that_never_ends_is_an_error_after_the_timeout(tmp_path):
    with (
        buildlock.building("localhost/x:1", folder=tmp_path),
        pytest.raises(EngineError, match="another process has been building localhost/x:1"),
        buildlock.building("localhost/x:1", folder=tmp_path, timeout=0.2),
    ):
        pass


def test_the_lock_file_name_is_safe_and_the_user_s_own(tmp_path):
    path = buildlock.lock_path("localhost/minestrone-base:bookworm", tmp_path)
    assert path.parent == tmp_path
    uid = os.getuid()
    assert path.name == f"minestrone-build-{uid}-localhost_minestrone-base_bookworm.lock"
