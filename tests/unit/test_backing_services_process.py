"""Child processes, readiness waits, ports, the state file and the Service life cycle."""

import os
import signal
import socket
import stat
import subprocess
import time

import pytest

from backing_services import process
from backing_services.base import Service
from backing_services.errors import PortInUse, ServiceStartError
from backing_services.ports import ensure_port_free, free_port, free_ports, port_is_free
from backing_services.state import load_state, new_password, save_state
from tests.fakes import FakeClock
from tests.pace import quick


class FlakyCheck:
    def __init__(self, failures):
        self.failures = failures
        self.calls = 0

    def __call__(self):
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionRefusedError("not yet")


def wait(check, alive=lambda: True, timeout=10.0, clock=None):
    clock = clock or FakeClock()
    took = process.wait_until_ready(
        check,
        alive=alive,
        timeout=timeout,
        what="fake server",
        tail=lambda: "line 1\nboom",
        clock=clock,
        sleep=clock.sleep,
    )
    return took, clock


def test_ready_after_a_few_checks():
    took, clock = wait(FlakyCheck(failures=3))
    assert len(clock.slept) == 3
    assert took == pytest.approx(0.3)


def test_a_dead_child_fails_at_once_with_the_log_tail():
    clock = FakeClock()
    with pytest.raises(ServiceStartError) as caught:
        wait(FlakyCheck(failures=100), alive=lambda: False, clock=clock)
    assert clock.slept == []
    assert "fake server exited while starting" in str(caught.value)
    assert "not yet" in str(caught.value)
    assert caught.value.log_tail == "line 1\nboom"
    assert str(caught.value).endswith("boom")


def test_the_deadline_fails_with_the_log_tail():
    with pytest.raises(ServiceStartError, match=r"not ready after 2 s") as caught:
        wait(FlakyCheck(failures=1000), timeout=2.0)
    assert "boom" in str(caught.value)


def test_a_real_child_that_exits_at_once_is_reported_quickly(tmp_path):
    log = tmp_path / "server.log"
    child = process.spawn(
        ["sh", "-c", "echo starting; echo 'FATAL: bad config' >&2; exit 3"], log_path=log
    )
    started = time.monotonic()
    with pytest.raises(ServiceStartError, match="FATAL: bad config"):
        process.wait_until_ready(
            FlakyCheck(failures=1000),
            alive=lambda: child.poll() is None,
            timeout=120,
            what="sh",
            tail=lambda: process.log_tail(log),
        )
    assert time.monotonic() - started < quick(2, timeout=120)
    assert child.returncode == 3


def test_spawn_puts_the_child_in_its_own_process_group(tmp_path):
    child = process.spawn(["sleep", "30"], log_path=tmp_path / "log")
    try:
        assert os.getpgid(child.pid) == child.pid != os.getpgid(0)
    finally:
        process.stop_child(child, timeout=5)
    assert child.returncode == -signal.SIGTERM


def test_spawn_of_a_missing_program_is_a_start_error(tmp_path):
    with pytest.raises(ServiceStartError, match="cannot run /nonexistent/server"):
        process.spawn(["/nonexistent/server"], log_path=tmp_path / "log")


def test_stop_child_kills_the_whole_group(tmp_path):
    grandchild_file = tmp_path / "grandchild"
    script = f"trap '' TERM; sleep 60 & echo $! > {grandchild_file}; wait"
    child = process.spawn(["sh", "-c", script], log_path=tmp_path / "log")
    assert process.wait_for(lambda: grandchild_file.exists() and grandchild_file.read_text(), 5)
    grandchild = int(grandchild_file.read_text())
    process.stop_child(child, timeout=0.5)
    assert process.wait_for(lambda: not process.pid_alive(grandchild), 5)
    assert not process.pid_alive(child.pid)


def test_pid_alive():
    assert process.pid_alive(os.getpid())
    child = subprocess.Popen(["true"])
    child.wait()
    assert not process.pid_alive(child.pid)


def test_log_tail(tmp_path):
    log = tmp_path / "log"
    log.write_text("".join(f"line {n}\n" for n in range(100)))
    assert process.log_tail(log, 3) == "line 97\nline 98\nline 99"
    assert process.log_tail(tmp_path / "missing") == ""


def test_free_ports_are_distinct_and_free():
    ports = free_ports(3)
    assert len(set(ports)) == 3
    assert all(port_is_free(port) for port in ports)


def test_a_taken_port_is_refused():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert not port_is_free(port)
        with pytest.raises(PortInUse, match=f"port {port} on 127.0.0.1 is already in use"):
            ensure_port_free(port, "PostgreSQL")
    ensure_port_free(free_port(), "PostgreSQL")


def test_state_is_private_and_round_trips(tmp_path):
    assert load_state(tmp_path) is None
    data = {"user": "root", "password": new_password(), "port": 5433}
    save_state(tmp_path, data)
    assert load_state(tmp_path) == data
    assert stat.S_IMODE((tmp_path / "service.json").stat().st_mode) == 0o600
    assert [path.name for path in tmp_path.iterdir()] == ["service.json"]


def test_generated_passwords_differ_and_need_no_quoting():
    first, second = new_password(), new_password()
    assert first != second
    assert len(first) >= 24
    assert first.replace("-", "").replace("_", "").isalnum()


class FakeService(Service):
    kind = "fake"

    def __init__(self, fail_in_start=False):
        super().__init__()
        self.fail_in_start = fail_in_start
        self.events = []
        self.log = "started\nserving"

    @property
    def url(self):
        return f"fake://{self.host}:{self.port}"

    def _start(self):
        self.events.append("start")
        if self.fail_in_start:
            raise ServiceStartError("died half-way", "the tail")

    def _stop(self):
        self.events.append("stop")

    def _cleanup(self):
        self.events.append("cleanup")
        self.log = ""

    def _read_log(self, lines):
        return self.log


def test_context_manager_starts_and_stops():
    service = FakeService()
    with service as entered:
        assert entered is service
        assert service.running
    assert not service.running
    assert service.events == ["start", "stop", "cleanup"]


def test_a_failed_start_stops_what_was_started():
    service = FakeService(fail_in_start=True)
    with pytest.raises(ServiceStartError, match="died half-way"), service:
        pytest.fail("the body must not run")
    assert service.events == ["start", "stop", "cleanup"]
    assert not service.running


def test_stop_is_idempotent_and_start_twice_is_one_start():
    service = FakeService()
    service.start()
    service.start()
    service.stop()
    service.stop()
    assert service.events == ["start", "stop", "cleanup", "stop", "cleanup"]


def test_the_log_tail_outlives_the_cleanup():
    service = FakeService()
    with service:
        pass
    assert service.log_tail() == "started\nserving"
    assert service.log_tail(1) == "serving"
