"""Healing: the data host restarts a dead server with backoff; the watchdog's backoff, events
and configuration; the one health check of data services."""

from __future__ import annotations

import argparse
import threading

import pytest

from platform_sim.files import read_json, write_json
from platform_sim.hosts import watchdog
from platform_sim.hosts.keeper import BACKOFF_FIRST, BACKOFF_MAX
from platform_sim.hosts.processes import ProcessTable
from platform_sim.render import supervisor
from platform_sim.services import host
from platform_sim.services.provision import DataService, DataServices


class FakeServer:
    """A server whose process dies when the test says so."""

    starts = 0

    def __init__(self, fail: list[bool]) -> None:
        self.fail = fail
        self.host, self.port, self.user, self.password = "127.0.0.1", 5432, "root", "pw"
        self.running = False
        self.stopped = 0

    def start(self):
        FakeServer.starts += 1
        if self.fail and self.fail.pop(0):
            raise OSError("shared memory block still in use")
        self.running = True
        return self

    def alive(self) -> bool:
        return self.running

    def stop(self) -> None:
        self.stopped += 1
        self.running = False


class StopAfter(threading.Event):
    """A stop event that fires after ``rounds`` waits; every wait's timeout is recorded."""

    def __init__(self, rounds: int) -> None:
        super().__init__()
        self.rounds = rounds
        self.waits: list[float] = []

    def wait(self, timeout=None) -> bool:
        self.waits.append(timeout)
        self.rounds -= 1
        return self.rounds < 0


def keeper(tmp_path, stop, fail=None):
    options = argparse.Namespace(
        kind="postgresql",
        data=tmp_path,
        status=tmp_path / "status.json",
        user="root",
        vhost="",
        address="",
    )
    servers = []

    def make(kind, data, user, address):
        servers.append(FakeServer(fail if fail is not None else []))
        return servers[-1]

    return host.Keeper(options, stop, make=make, clock=lambda: 0.0), servers


def test_a_dead_server_is_started_again_with_the_same_credentials(tmp_path):
    stop = StopAfter(4)
    kept, servers = keeper(tmp_path, stop)
    kept.start()
    assert read_json(tmp_path / "status.json")["state"] == "ready"
    servers[0].running = False  # SIGKILL
    kept.watch()
    assert len(servers) == 2 and servers[0].stopped >= 1  # what was left of it is cleaned
    assert BACKOFF_FIRST in stop.waits
    assert read_json(tmp_path / "status.json") == {
        "state": "stopped",
        "host": "127.0.0.1",
        "port": 5432,
        "login": "root",
        "password": "pw",
        "vhost": "",
        "provider": "FakeServer",
    }


def test_failed_restarts_back_off_and_say_restarting(tmp_path):
    stop = StopAfter(20)
    kept, servers = keeper(tmp_path, stop, fail=[False, True, True, True])
    kept.start()
    servers[0].running = False
    kept.restart()
    status = read_json(tmp_path / "status.json")
    assert status["state"] == "restarting" and status["attempt"] == 1
    assert status["error"] == "shared memory block still in use"
    assert kept.delay() == 2 * BACKOFF_FIRST
    kept.attempt = 20
    assert kept.delay() == BACKOFF_MAX


def test_watchdog_backoff_doubles_per_program_and_forgets_old_failures():
    now = [0.0]
    backoff = watchdog.Backoff(clock=lambda: now[0])
    assert [backoff.next_delay("w:djcelery") for _ in range(4)] == [1, 2, 4, 8]
    assert backoff.next_delay("w:other") == 1
    for _ in range(10):
        backoff.next_delay("w:djcelery")
    assert backoff.next_delay("w:djcelery") == watchdog.MAX_DELAY
    now[0] = watchdog.FORGET_AFTER + 1
    assert backoff.next_delay("w:djcelery") == 1


def test_watchdog_reads_fatal_events_only():
    payload = "processname:djcelery groupname:djcelery from_state:BACKOFF"
    assert watchdog.fatal_program({"eventname": "PROCESS_STATE_FATAL"}, payload) == (
        "djcelery:djcelery"
    )
    assert watchdog.fatal_program({"eventname": "PROCESS_STATE_RUNNING"}, payload) is None
    assert watchdog.fatal_program({"eventname": "PROCESS_STATE_FATAL"}, "junk") is None


def test_the_watchdog_is_an_event_listener_supervisor_accepts(tmp_path):
    home = tmp_path / "home"
    (home / "current").mkdir(parents=True)
    (home / "platform").mkdir()
    (home / "current" / "supervisord.conf").write_text("")
    (tmp_path / "log").mkdir()
    text = supervisor.render_main(
        app="soup",
        instance="workers.0",
        generation=1,
        home=str(home),
        control_port=4567,
        control_password="pw-_x",
        programs=[],
        watchdog=supervisor.render_watchdog("/usr/bin/python3", str(home)),
    ).replace("/var/log/supervisor", f"{tmp_path}/log")
    config = home / "platform" / "supervisord.conf"
    config.write_text(text)
    assert "[eventlistener:platform_watchdog]" in text
    assert "events = PROCESS_STATE_FATAL" in text
    assert supervisor.check_config(str(config), {"PATH": "/usr/bin:/bin"}) == []
    assert watchdog.control_url(str(config)) == "http://platform:pw-_x@127.0.0.1:4567/RPC2"


@pytest.fixture
def services(tmp_path):
    folder = DataService("db", "postgresql", tmp_path / "db")
    folder.folder.mkdir()
    return DataServices(ProcessTable(), base_env={}), folder


def test_health_says_down_when_the_host_is_gone_and_restarting_when_it_restarts(
    services, monkeypatch
):
    data, folder = services
    write_json(folder.status_file, {"state": "ready", "host": "127.0.0.1", "port": 1})
    health = data.health(folder)
    assert (health.state, health.up, health.detail) == ("down", False, "postgresql is stopped")
    monkeypatch.setattr(data, "handle", lambda service: object())
    write_json(folder.status_file, {"state": "restarting", "attempt": 2, "error": "boom"})
    health = data.health(folder)
    assert health.state == "restarting"
    assert health.detail == "postgresql died; restarting (attempt 2: boom)"


def test_a_brokers_first_boot_makes_its_virtual_host(tmp_path):
    """The add-on's broker is built with its virtual host, so add_vhost finds it there."""
    made, added = [], []

    class Broker(FakeServer):
        def add_vhost(self, name):
            added.append(name)

    def make(kind, data, user, address, **own):
        made.append(own)
        return Broker([])

    options = argparse.Namespace(
        kind="rabbitmq", data=tmp_path, status=tmp_path / "status.json", user="abcdefgh",
        vhost="abcdefgh", address="",
    )
    host.Keeper(options, threading.Event(), make=make, clock=lambda: 0.0).start()
    assert made == [{"vhost": "abcdefgh"}]
    assert added == ["abcdefgh"]
    assert read_json(tmp_path / "status.json")["vhost"] == "abcdefgh"
