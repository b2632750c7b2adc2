"""The fault library with hand-written fakes: every fault recorded, every one undone — on a
normal end, an exception, SIGTERM — and partitions made of firewall rules in namespaces only."""

from __future__ import annotations

import os
import signal

import pytest

from platform_sim.faults.inject import Endpoint, FaultError, Faults, Interrupted

A = Endpoint("ps1-2", "198.18.1.2")
B = Endpoint("ps1-3", "198.18.1.3")


class Recorder:
    """Fake command runner and kill: records calls; rules it was told to add are 'installed'."""

    def __init__(self, fail_on: str = "") -> None:
        self.commands: list[list[str]] = []
        self.signals: list[tuple[int, int]] = []
        self.rules: list[tuple[str, tuple[str, ...]]] = []
        self.fail_on = fail_on

    def run(self, argv):
        argv = list(argv)
        self.commands.append(argv)
        if self.fail_on and self.fail_on in argv:
            raise FaultError(f"{self.fail_on} refused")
        assert argv[:3] == ["ip", "netns", "exec"] and argv[4:6] == ["iptables", "-w"]
        rule = (argv[3], tuple(argv[7:]))
        if argv[6] == "-I":
            self.rules.append(rule)
        else:
            assert argv[6] == "-D"
            self.rules.remove(rule)

    def kill(self, pid, sig):
        self.signals.append((pid, sig))


def make(recorder, **kwargs):
    return Faults(run=recorder.run, kill=recorder.kill, handle_signals=False, **kwargs)


def test_a_partition_is_drop_rules_in_both_namespaces_and_nothing_else():
    fake = Recorder()
    with make(fake) as faults:
        faults.partition(A, B, "workers | broker")
        assert {netns for netns, _ in fake.rules} == {A.netns, B.netns}
        assert len(fake.rules) == 4
        assert all("DROP" in spec and "platform_sim-fault" in spec for _, spec in fake.rules)
        assert (A.netns, ("INPUT", "-s", B.address, *fake.rules[0][1][3:])) in fake.rules
        assert (B.netns, ("OUTPUT", "-d", A.address, *fake.rules[0][1][3:])) in fake.rules
    assert fake.rules == []
    assert not any("route" in command for command in fake.commands)


def test_freeze_is_undone_at_the_end_of_the_block_even_after_an_error():
    fake = Recorder()
    with pytest.raises(RuntimeError), make(fake) as faults:
        faults.freeze([11, 12], "postgres")
        raise RuntimeError("the bench failed")
    assert fake.signals == [
        (11, signal.SIGSTOP),
        (12, signal.SIGSTOP),
        (11, signal.SIGCONT),
        (12, signal.SIGCONT),
    ]


def test_hold_undoes_at_once_and_the_block_does_not_undo_twice():
    fake = Recorder()
    slept = []
    with make(fake) as faults:
        fault = faults.freeze([5], "x")
        faults.hold(fault, 20, sleep=slept.append)
        assert faults.active == []
    assert slept == [20]
    assert fake.signals == [(5, signal.SIGSTOP), (5, signal.SIGCONT)]


def test_faults_are_undone_newest_first_and_every_undo_is_tried():
    fake = Recorder()
    order = []
    with (
        pytest.raises(FaultError, match="could not undo stopped broker: no start"),
        make(fake) as faults,
    ):
        faults.stop_service("db", lambda: order.append("stop db"), lambda: order.append("db"))

        def refuse():
            raise FaultError("no start")

        faults.stop_service("broker", lambda: order.append("stop broker"), refuse)
    assert order == ["stop db", "stop broker", "db"]
    assert faults.active == []


def test_a_rule_that_cannot_be_added_is_still_cleaned_up():
    fake = Recorder(fail_on="OUTPUT")
    with pytest.raises(FaultError, match="refused"), make(fake) as faults:
        faults.partition(A, B, "www | broker")
    assert fake.rules == []  # the INPUT rule added before the failure was deleted


def test_kill_needs_no_undo_but_is_in_the_history():
    fake = Recorder()
    with make(fake) as faults:
        faults.kill(42, "djcelery")
        assert faults.active == []
    assert fake.signals == [(42, signal.SIGKILL)]
    assert faults.history == ["SIGKILL djcelery (pid 42)"]


def test_freezing_nothing_is_refused():
    with make(Recorder()) as faults, pytest.raises(FaultError, match="nothing to freeze"):
        faults.freeze([], "postgres")


def test_sigterm_during_the_block_undoes_every_fault_and_restores_the_handler():
    fake = Recorder()
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Interrupted), Faults(run=fake.run, kill=fake.kill) as faults:
        faults.partition(A, B, "workers | db")
        faults.freeze([7], "postgres")
        os.kill(os.getpid(), signal.SIGTERM)
        signal.pause()  # pragma: no cover - the handler raises first
    assert fake.rules == []
    assert fake.signals[-1] == (7, signal.SIGCONT)
    assert signal.getsignal(signal.SIGTERM) is before


def test_ctrl_c_undoes_every_fault():
    fake = Recorder()
    with pytest.raises(KeyboardInterrupt), Faults(run=fake.run, kill=fake.kill) as faults:
        faults.partition(A, B, "workers | broker")
        raise KeyboardInterrupt
    assert fake.rules == []


def test_hosts_are_found_in_the_network_record(tmp_path):
    from pathlib import Path

    from platform_sim.faults import sites
    from platform_sim.files import write_json

    write_json(
        tmp_path / "network.json",
        {"subnet": 1, "hosts": {"d3-workers-0": {"netns": "ps1-5", "address": "198.18.1.5"}}},
    )
    key = sites.instance_key(Path("/state/app/deploys/3/workers.0"))
    assert key == "d3-workers-0"
    assert sites.endpoint(tmp_path, key) == Endpoint("ps1-5", "198.18.1.5")
    with pytest.raises(FaultError, match="no host services-db in the network"):
        sites.endpoint(tmp_path, "services-db")
    with pytest.raises(FaultError, match="records no process"):
        sites.recorded_root(tmp_path / "pid.json")
