"""A program counts as started once it holds an established TCP connection; a listening or
closed socket is not one."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from platform_sim.hosts import sockets
from platform_sim.hosts.instance import InstanceRunner


def child(code: str) -> subprocess.Popen:
    """A Python child that runs ``code``, says so on stdout, then waits for stdin to close."""
    process = subprocess.Popen(
        [sys.executable, "-c", f"{code}\nprint('go', flush=True)\nimport sys; sys.stdin.read()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline() == "go\n"
    return process


def test_a_connection_is_seen_and_a_listening_socket_is_not():
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        listening = child("import socket; s = socket.create_server(('127.0.0.1', 0))")
        connecting = child(f"import socket; s = socket.create_connection(('127.0.0.1', {port}))")
        try:
            assert sockets.socket_inodes(listening.pid)
            assert not sockets.connected(listening.pid)
            assert sockets.connected(connecting.pid)
        finally:
            for process in (listening, connecting):
                process.communicate("")


def test_a_pid_outside_any_namespace_of_ours_is_not_found():
    assert sockets.host_pid(os.getpid(), 999_999_999) is None


class States:
    def __init__(self, states: dict[str, dict]) -> None:
        self._states = states

    def states(self) -> dict[str, dict]:
        return self._states


def test_a_starting_program_runs_once_it_reached_a_server():
    control = States(
        {
            "nginx": {"statename": "RUNNING", "pid": 8},
            "djcelery": {"statename": "STARTING", "pid": 9},
        }
    )
    assert InstanceRunner._programs(control) == (None, False)  # startsecs not over yet
    assert InstanceRunner._programs(control, lambda pid: pid == 9) == (None, True)
    assert InstanceRunner._programs(control, lambda pid: pid == 8) == (None, False)


def test_a_program_in_backoff_is_a_failure_even_if_connected():
    control = States({"djcelery": {"statename": "BACKOFF", "pid": 9}})
    assert InstanceRunner._programs(control, lambda pid: True) == ("djcelery", False)
