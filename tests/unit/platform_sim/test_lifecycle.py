"""The namespaced-process lifecycle: pid record, readiness with a deadline, failures named."""

from __future__ import annotations

import pytest

from platform_sim.errors import NeverReady, PlatformError
from platform_sim.files import read_json, write_json
from platform_sim.hosts.lifecycle import Namespaced
from platform_sim.hosts.processes import Handle


class FakeTable:
    """A process table whose processes live as long as the test says."""

    def __init__(self) -> None:
        self.running: set[int] = set()
        self.stopped: list[tuple[Handle, float, int]] = []

    def spawn(self, argv, *, log, env, cwd) -> Handle:  # noqa: ANN001
        handle = Handle(4242, 7)
        self.running.add(handle.pid)
        return handle

    def alive(self, handle: Handle) -> bool:
        return handle.pid in self.running

    def stop_namespace(self, handle: Handle, grace: float, sig: int = 15) -> None:
        self.stopped.append((handle, grace, sig))
        self.running.discard(handle.pid)


class Clock:
    """A clock that advances by one second each time it is read."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def failed(reason: str) -> PlatformError:
    return PlatformError(f"failed: {reason}")


@pytest.fixture
def tree(tmp_path):
    return Namespaced(FakeTable(), tmp_path / "pid.json", tmp_path / "out.log")


def test_spawn_records_the_process_and_stop_forgets_it(tree):
    handle = tree.spawn(["x"], env={}, cwd=tree.pid_file.parent)
    assert read_json(tree.pid_file) == {"pid": 4242, "started": 7}
    assert tree.handle() == handle
    tree.stop(3.0, sig=3)
    assert tree.table.stopped == [(handle, 3.0, 3)]
    assert not tree.pid_file.exists()
    assert tree.handle() is None


def test_a_record_of_a_process_gone_is_no_handle(tree):
    write_json(tree.pid_file, {"pid": 99, "started": 1})
    assert tree.handle() is None


def test_ready_when_the_probe_says_so(tree):
    handle = tree.spawn(["x"], env={}, cwd=tree.pid_file.parent)
    answers = iter([False, False, True])
    seconds = tree.wait_ready(
        handle, lambda: next(answers), timeout=60, failed=failed, clock=Clock(), interval=0
    )
    assert seconds > 0


def test_a_dead_process_a_definite_failure_and_the_deadline_are_failures(tree):
    handle = tree.spawn(["x"], env={}, cwd=tree.pid_file.parent)
    with pytest.raises(PlatformError, match="failed: not ready after 3 s"):
        tree.wait_ready(handle, lambda: False, timeout=3, failed=failed, clock=Clock(), interval=0)

    def broken() -> bool:
        raise NeverReady("program x failed")

    with pytest.raises(PlatformError, match="failed: program x failed"):
        tree.wait_ready(handle, broken, timeout=3, failed=failed, clock=Clock(), interval=0)
    tree.table.running.clear()
    with pytest.raises(PlatformError, match="failed: exited"):
        tree.wait_ready(handle, lambda: True, timeout=3, failed=failed, clock=Clock(), interval=0)
