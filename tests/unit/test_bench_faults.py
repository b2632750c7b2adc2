"""The fault bench's pure parts: its command line (one line per bad input), its table, and how
it measures 503 seconds and the first job after a fault."""

from __future__ import annotations

import sys
import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench import fault_load
from bench import faults as bench


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--jobs", "0"], "--jobs 0: give a number of jobs of 1 or more"),
        (["--jobs", "-3"], "--jobs -3: give a number of jobs of 1 or more"),
        (["--scenario", "nope"], "no scenario 'nope': choose among worker-pool-child-kill"),
        (["--jobs", "x"], "invalid int value: 'x'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    with pytest.raises(SystemExit) as exited:
        bench.parse(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("bench.faults: error: ")
    assert message in err


@given(st.integers(max_value=0))
def test_no_job_count_below_one_is_accepted(jobs):
    with pytest.raises(SystemExit):
        bench.parse(["--jobs", str(jobs)])


def test_every_scenario_of_the_issue_is_there_and_all_run_by_default():
    assert len(bench.SCENARIOS) == 17
    assert bench.parse([]).scenario == list(bench.SCENARIOS)
    chosen = bench.parse(["--scenario", "broker-kill", "redeploy", "--jobs", "5"])
    assert (chosen.scenario, chosen.jobs) == (["broker-kill", "redeploy"], 5)


def test_the_table_has_a_row_per_scenario_and_says_why_jobs_were_lost():
    rows = [
        {
            "scenario": "broker-kill",
            "sent": 6,
            "completed": 6,
            "lost": 0,
            "duplicated": 1,
            "recovery_s": 4.2,
            "site_503_s": 3.0,
            "camera_missing": 0,
        },
        {"scenario": "redeploy", "lost": None, "why": "did not run: push failed"},
    ]
    text = bench.table(rows).splitlines()
    assert text[2] == "| broker-kill | 6 | 6 | 0 | 1 | 4.2 | 3.0 | 0 |"
    assert text[3].startswith("| redeploy | — |")
    assert text[4] == "- redeploy: did not run: push failed"


def test_503_seconds_are_the_runs_of_503_answers():
    probe = fault_load.Probe("http://127.0.0.1:1/")
    probe.samples = [(0, 1, 200), (1, 2, 503), (2, 4, 503), (4, 5, 200), (6, 6.5, 503)]
    assert probe.seconds_503() == pytest.approx(3 + 0.5)
    probe.samples.append((7, 8, "ConnectionRefusedError"))
    assert probe.other_failures() == ["ConnectionRefusedError"]


def test_the_first_job_after_the_fault_is_one_that_started_after_it():
    follower = fault_load.Completions([sys.executable, "-c", ""], {}, ".")
    follower.close()
    follower.started = {"a": [1.0], "b": [11.0], "c": [12.0]}
    follower.completed = {"a": [10.5], "b": [12.5], "c": [13.0, 20.0]}
    assert follower.first_after(["a", "b", "c"], 10.0) == 12.5
    assert follower.first_after(["a"], 10.0) is None
    assert follower.counts(["a", "c", "d"]) == {"a": 1, "c": 2, "d": 0}


def test_the_follower_is_attached_when_its_first_line_arrives(tmp_path):
    go = tmp_path / "go"  # the command prints nothing before the test says so
    script = (
        "import os, sys, time\n"
        "while not os.path.exists(sys.argv[1]): time.sleep(0.02)\n"
        "print('an old line', flush=True); time.sleep(0.2)\n"
        "print('Lazy job j-1 completed', flush=True); time.sleep(30)"
    )
    follower = fault_load.Completions([sys.executable, "-c", script, str(go)], {}, ".")
    try:
        assert not follower.attached.is_set()
        go.touch()
        assert follower.attached.wait(10)
        deadline = time.monotonic() + 10
        while follower.counts(["j-1"]) != {"j-1": 1}:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        follower.close()


def test_no_job_is_sent_before_the_workers_log_is_followed(monkeypatch):
    class Site:
        env: dict = {}

        def healthy(self):
            pass

        def info(self):
            broker = {"type": "rabbitmq", "instances": [{"url": "amqp://nowhere//"}]}
            services = {"broker": broker, "db": {"type": "postgresql"}}
            return {"url": "http://127.0.0.1:9/", "services": services}

    class SilentFollower:
        def __init__(self, *args):
            self.attached = threading.Event()  # never set: nothing printed

        def close(self):
            pass

    senders = []
    monkeypatch.setattr(bench, "Completions", SilentFollower)
    monkeypatch.setattr(bench, "DirectSender", lambda url: senders.append(url))
    monkeypatch.setattr(bench, "FOLLOW_WITHIN", 0.2)
    with pytest.raises(bench.BenchError, match="printed nothing within 0.2 s"):
        bench.run_scenario(Site(), None, "broker-kill", 3)
    assert senders == []


def test_scenarios_are_grouped_by_the_kinds_and_broker_nodes_they_need_pushed_in_order():
    names = ["broker-kill", "redis-kill", "cluster-partition", "redeploy", "mariadb-kill"]
    groups = bench.by_setup(names)
    assert list(groups.values()) == [
        ["broker-kill", "redeploy"], ["redis-kill", "mariadb-kill"], ["cluster-partition"]
    ]
    assert [(dict(kinds), nodes) for kinds, nodes in groups] == [
        ({"db": "postgresql", "broker": "rabbitmq"}, 1),
        ({"db": "mysql", "broker": "redis"}, 1),
        ({"db": "postgresql", "broker": "rabbitmq"}, 3),
    ]


def test_set_instances_makes_the_broker_a_cluster_of_three(tmp_path):
    from bench.push import ROOT, set_instances
    from platform_sim.appfile import buildfile

    (tmp_path / "dotcloud.yml").write_text((ROOT / "dotcloud.yml").read_text())
    set_instances(tmp_path, "broker", 3)
    assert buildfile.load(tmp_path).services["broker"].instances == 3
    with pytest.raises(ValueError, match="no cache service"):
        set_instances(tmp_path, "cache", 3)


def test_a_scenario_on_an_app_pushed_with_other_kinds_is_refused_before_any_job():
    class Site:
        def healthy(self):
            pass

        def info(self):
            return {"services": {"db": {"type": "postgresql"}, "broker": {"type": "rabbitmq"}}}

    with pytest.raises(bench.BenchError, match="redis-kill needs .*'broker': 'redis'"):
        bench.run_scenario(Site(), None, "redis-kill", 3)


def test_set_kinds_rewrites_the_types_of_the_named_services_only(tmp_path):
    from bench.push import ROOT, set_kinds

    original = (ROOT / "dotcloud.yml").read_text()
    (tmp_path / "dotcloud.yml").write_text(original)
    set_kinds(tmp_path, {"db": "mysql", "broker": "redis"})
    text = (tmp_path / "dotcloud.yml").read_text()
    assert "db:\n  type: mysql\n" in text and "broker:\n  type: redis\n" in text
    back = text.replace("type: mysql", "type: postgresql").replace("type: redis", "type: rabbitmq")
    assert back == original
    with pytest.raises(ValueError, match="no cache service"):
        set_kinds(tmp_path, {"cache": "redis"})


def _becomes(pid: int, stopped: bool) -> bool:
    """Whether ``pid`` becomes stopped (or running) within 5 s: signals arrive asynchronously."""
    import time
    from pathlib import Path

    deadline = time.monotonic() + 5
    while True:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if (state == "T") == stopped:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, "SIGTERM"])
def test_ctrl_c_or_sigterm_undoes_every_fault_destroys_the_app_and_says_so(
    monkeypatch, capsys, interrupt
):
    import os
    import signal
    import subprocess

    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    destroyed = []
    monkeypatch.setattr(bench.os, "geteuid", lambda: 0)
    monkeypatch.setattr(bench.upload, "copy_tree", lambda *args: None)
    monkeypatch.setattr(bench.Deployment, "push", lambda self: None)
    monkeypatch.setattr(bench.Deployment, "destroy", lambda self: destroyed.append(True))

    def scenario(site, faults, name, jobs):
        faults.freeze([victim.pid], "a stand-in process")
        assert _becomes(victim.pid, stopped=True)
        if interrupt is KeyboardInterrupt:
            raise KeyboardInterrupt
        os.kill(os.getpid(), signal.SIGTERM)
        signal.pause()  # pragma: no cover - the handler raises first

    monkeypatch.setattr(bench, "run_scenario", scenario)
    try:
        assert bench.main(["--scenario", "broker-kill", "--jobs", "2"]) == 130
        assert _becomes(victim.pid, stopped=False)  # thawed
    finally:
        victim.kill()
        victim.wait()
    assert destroyed == [True]
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == "bench.faults: interrupted: every injected fault undone, the app destroyed"
    assert not any("Traceback" in line for line in err)


def test_the_direct_sender_never_becomes_the_current_celery_app():
    # it once did, and the project's shared tasks then went to a destroyed app's broker
    from celery import current_app

    from bench.fault_load import DirectSender
    from minestrone.celery_app import app

    before = current_app._get_current_object()
    DirectSender("memory://")
    assert current_app._get_current_object() is before
    from minestrone.soup.tasks import lazy_job

    assert lazy_job.app is app


def test_the_direct_sender_declares_the_topic_exchange_it_publishes_to():
    # on Redis a client's exchange types are its own: one that never declared "default" routed
    # by direct match, and every direct job was dropped
    from bench.fault_load import DirectSender
    from minestrone import settings

    sender = DirectSender("memory://")
    try:
        assert sender.exchange == settings.DEFAULT_EXCHANGE
        with sender.app.connection_for_write() as connection:
            exchanges = connection.default_channel.state.exchanges
            exchanges.clear()  # nothing declared yet, as in a fresh client of Redis
            assert sender.send("routed") == ""
        assert exchanges["default"]["type"] == "topic"
    finally:
        sender.close()


def test_the_follower_is_ready_once_it_read_a_line_and_counts_completions():
    script = "print('Starting the lazy job: j1'); print('Lazy job j1 completed')"
    follower = fault_load.Completions([sys.executable, "-c", script], {}, ".")
    try:
        assert follower.attached.wait(30)
        follower.thread.join(30)
        assert follower.counts(["j1", "j2"]) == {"j1": 1, "j2": 0}
    finally:
        follower.close()


def test_the_poison_row_says_how_often_the_job_ran_and_that_it_was_dead_lettered():
    row = {"scenario": "cluster-poison-job", "sent": 6, "lost": 0, "dead_lettered": 1,
           "poison": "poison-1", "poison_runs": 6, "poison_dead_lettered": 1}  # fmt: skip
    text = bench.table([row]).splitlines()
    assert text[2].startswith("| cluster-poison-job | 6 | — | 0 |")
    assert text[3] == (
        "- cluster-poison-job: the poison job ran 6 time(s), its pool process SIGKILLed at "
        "each, then was dead-lettered 1 time(s); jobs dead-lettered in all: 1"
    )


def test_a_dead_letter_queue_that_cannot_be_read_is_no_count_and_no_error():
    class Unreachable:
        def count(self):
            raise ConnectionRefusedError("the broker is out")

    class Holding:
        def count(self):
            return 3

    assert bench._dead_letter_count(None) is None  # not RabbitMQ
    assert bench._dead_letter_count(Unreachable()) is None
    assert bench._dead_letter_count(Holding()) == 3


def test_a_failed_command_is_told_by_its_error_line_and_the_log_under_it():
    """A failed push names what failed and shows the server's log tail, not only its last
    line (a MariaDB install's last line is a link to its manual)."""
    output = (
        "-----> Starting mysql\n"
        "platform_sim: error: [db] mariadb-install-db failed (exit status 1)\n"
        "    FATAL ERROR: Could not find /usr/share/mariadb/fill_help_tables.sql\n"
        "    https://mariadb.com/docs/mariadb-install-db\n"
    )
    said = bench.failure_text(output)
    assert said.splitlines() == [
        "[db] mariadb-install-db failed (exit status 1)",
        "    FATAL ERROR: Could not find /usr/share/mariadb/fill_help_tables.sql",
        "    https://mariadb.com/docs/mariadb-install-db",
    ]


@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cc", "Cs"])), max_size=80))
def test_without_an_error_line_the_last_lines_are_told(lines):
    said = bench.failure_text("\n".join(lines), limit=5)
    assert len(said.splitlines()) <= 5


def test_info_is_read_through_the_library_and_an_app_never_pushed_is_one_bench_error(
    tmp_path, monkeypatch
):
    from platform_sim import context

    # the programs a context looks up, whether or not this machine has them
    monkeypatch.setattr(context.namespace, "unshare_binary", lambda: "/usr/bin/unshare")
    monkeypatch.setattr(context, "ip_binary", lambda: "/usr/sbin/ip")
    site = bench.Deployment(tmp_path / "home", tmp_path / "src")
    with pytest.raises(bench.BenchError, match="no application 'bench-faults' under"):
        site.info()
