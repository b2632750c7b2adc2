"""Small pieces: upload rules, namespace script, step runner, process handles, state, add-ons."""

import io
import os
import subprocess
import sys
import threading
import time

import pytest

from platform_sim.appfile.buildfile import Service
from platform_sim.appfile.environment import Endpoint
from platform_sim.apps import AppPaths, AppRecord, check_app_name, create, locked, platform_home
from platform_sim.builder import upload
from platform_sim.builder.service import build_environment, build_key
from platform_sim.builder.steps import run_step
from platform_sim.errors import StepFailed, UsageError
from platform_sim.hosts import namespace
from platform_sim.hosts.processes import Handle, ProcessTable, start_time
from platform_sim.output import Printer, QuietPrinter
from platform_sim.services import addons
from platform_sim.services.provision import Running


def test_upload_skips_what_the_platform_skipped(tmp_path):
    source = tmp_path / "src"
    for path in [
        "a.py",
        "a.pyc",
        ".git/HEAD",
        "pkg/__pycache__/x.pyc",
        "pkg/m.py",
        ".venv/bin/python",
        "docs/big.bin",
        "keep/docs/big.bin",
        "notes.log",
    ]:
        (source / path).parent.mkdir(parents=True, exist_ok=True)
        (source / path).write_text("x")
    (source / ".dotcloudignore").write_text("# comment\n.venv/\n/docs\n*.log\n")
    report = upload.copy_tree(source, tmp_path / "out")
    copied = sorted(
        str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*") if p.is_file()
    )
    assert copied == [".dotcloudignore", "a.py", "keep/docs/big.bin", "pkg/m.py"]
    assert report.files == 4


def test_namespace_script_mounts_then_execs():
    text = namespace.script(
        [("/state/www.0", "/home/dotcloud")], ["/mnt/x"], "/home/dotcloud/current"
    )
    assert text.index("mount -t tmpfs") < text.index("mount --bind /state/www.0 /home/dotcloud")
    assert text.endswith('cd /home/dotcloud/current; exec "$@"')
    argv = namespace.wrap(["supervisord", "-n"], binds=[("/a b", "/c")], unshare="/usr/bin/unshare")
    assert argv[:2] == ["/usr/bin/unshare", "--mount"]
    assert "--pid" in argv and "--kill-child" in argv
    assert argv[-2:] == ["supervisord", "-n"]
    assert "'/a b'" in argv[argv.index("-c") + 1]


def test_namespace_refuses_non_root():
    from platform_sim.errors import HostError

    with pytest.raises(HostError, match="must run as root"):
        namespace.check_privileges(euid=1000)


def test_run_step_streams_prefixed_lines_and_logs(tmp_path):
    printer = QuietPrinter()
    log = tmp_path / "step.log"
    run_step(
        ["sh", "-c", "echo one; echo two >&2"],
        prefix="www",
        step="s",
        printer=printer,
        env={"PATH": "/usr/bin:/bin"},
        log=log,
    )
    assert printer.lines == ["[www] one", "[www] two"]
    assert log.read_text() == "one\ntwo\n"
    assert oct(log.stat().st_mode & 0o777) == "0o600"


def test_run_step_failure_carries_status_and_tail():
    script = "for i in $(seq 1 40); do echo line $i; done; exit 7"
    with pytest.raises(StepFailed) as caught:
        run_step(
            ["sh", "-c", script],
            prefix="workers.0",
            step="postinstall",
            printer=QuietPrinter(),
            env={"PATH": "/usr/bin:/bin"},
        )
    error = caught.value
    assert (error.service, error.step, error.status) == ("workers.0", "postinstall", 7)
    assert error.tail.splitlines()[-1] == "line 40" and len(error.tail.splitlines()) == 25


def a_step_over_its_time_limit() -> pytest.ExceptionInfo[StepFailed]:
    """Run a 30 s step with a 0.5 s limit; what it raised."""
    with pytest.raises(StepFailed) as caught:
        run_step(
            ["sh", "-c", "echo started; sleep 30"],
            prefix="www.0",
            step="postinstall",
            printer=QuietPrinter(),
            env={"PATH": "/usr/bin:/bin"},
            timeout=0.5,
        )
    return caught


def test_run_step_time_limit_kills_the_step():
    started = time.monotonic()
    caught = a_step_over_its_time_limit()
    assert caught.value.status is None
    assert "limit" in caught.value.tail
    assert time.monotonic() - started < 10


def test_a_time_limit_is_told_even_while_its_timer_thread_still_runs(monkeypatch):
    """The timer's thread can be preempted between its kill and its end: the step's end is
    still a time limit, not a plain 'killed by SIGKILL'."""

    class LingeringTimer(threading.Timer):
        def is_alive(self):
            return True

    monkeypatch.setattr(threading, "Timer", LingeringTimer)
    caught = a_step_over_its_time_limit()
    assert caught.value.status is None
    assert "limit" in caught.value.tail


def test_handle_recognises_its_process_and_not_a_reused_pid(tmp_path):
    table = ProcessTable()
    handle = table.spawn(["sleep", "30"], log=tmp_path / "log", env={"PATH": "/usr/bin:/bin"})
    assert table.alive(handle) and Handle.from_json(handle.to_json()) == handle
    assert not Handle(handle.pid, handle.started + 1).alive()
    os.kill(handle.pid, 9)
    assert table.wait_gone(handle, 5)
    assert start_time(handle.pid) is None or not handle.alive()


def test_state_paths_and_record(tmp_path):
    assert platform_home({"PLATFORM_SIM_HOME": str(tmp_path)}) == tmp_path
    assert str(platform_home({"HOME": "/x"})).endswith(".platform_sim")
    paths = AppPaths(tmp_path / "soup")
    record = create(paths)
    assert oct(paths.root.stat().st_mode & 0o777) == "0o700"
    assert oct(paths.record.stat().st_mode & 0o777) == "0o600"
    record.variables["A"] = "1"
    record.save(paths)
    assert AppRecord.load(paths).variables == {"A": "1"}
    assert paths.home(3, "www", 1) == tmp_path / "soup" / "deploys" / "3" / "www.1"


def test_app_lock_refuses_a_second_command(tmp_path):
    paths = AppPaths(tmp_path / "soup")
    script = (
        "import sys, time; sys.path.insert(0, sys.argv[1]);"
        "from platform_sim.apps import AppPaths, locked; from pathlib import Path;"
        "p = AppPaths(Path(sys.argv[2]))\n"
        "with locked(p):\n    print('held', flush=True); time.sleep(5)"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    holder = subprocess.Popen(
        [sys.executable, "-c", script, root, str(paths.root)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(UsageError, match="another platform_sim command"), locked(paths):
            pass
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("name", ["", "-x", "a/b", ".hidden", "x" * 64, "soup\n"])
def test_bad_app_names(name):
    with pytest.raises(UsageError):
        check_app_name(name)


def test_build_key_follows_the_requirements(tmp_path):
    (tmp_path / "requirements.txt").write_text("Django\n")
    www, workers = Service("www", "python"), Service("workers", "python-worker")
    assert build_key(www, tmp_path) == build_key(workers, tmp_path)  # shared virtualenv
    hooked = Service("www", "python", postbuild="make")
    assert build_key(hooked, tmp_path) != build_key(www, tmp_path)
    more = Service("www", "python", requirements=("requests",))
    assert build_key(more, tmp_path) != build_key(www, tmp_path)
    before = build_key(www, tmp_path)
    (tmp_path / "requirements.txt").write_text("Django\ncelery\n")
    assert build_key(www, tmp_path) != before


def test_build_environment_drops_other_pythons(tmp_path):
    env = build_environment(
        {"PATH": "/usr/bin", "VIRTUAL_ENV": "/x", "PIP_INDEX_URL": "i"},
        tmp_path / "env",
        {"A": "1"},
    )
    assert env["PATH"].startswith(f"{tmp_path}/env/bin:")
    assert env["VIRTUAL_ENV"] == str(tmp_path / "env")
    assert env["PIP_INDEX_URL"] == "i" and env["A"] == "1"


def test_cloudamqp_variables():
    running = Running(Endpoint("127.0.0.1", 5673, "abcdefgh", "p/w"), "abcdefgh", "Local", True, 1)
    values = addons.variables("cloudamqp", running)
    assert values == {
        "CLOUDAMQP_RABBITMQ_AMQP_HOST": "127.0.0.1",
        "CLOUDAMQP_RABBITMQ_AMQP_PORT": "5673",
        "CLOUDAMQP_RABBITMQ_AMQP_LOGIN": "abcdefgh",
        "CLOUDAMQP_RABBITMQ_AMQP_PASSWORD": "p/w",
        "CLOUDAMQP_RABBITMQ_AMQP_VIRTUALHOST": "abcdefgh",
        "CLOUDAMQP_RABBITMQ_AMQP_URL": "amqp://abcdefgh:p%2Fw@127.0.0.1:5673/abcdefgh",
    }
    with pytest.raises(UsageError, match="unknown add-on"):
        addons.addon_kind("mongolab")


def test_printer_prefixes_steps_with_elapsed_time():
    stream = io.StringIO()
    ticks = iter([0.0, 1.25])
    printer = Printer(stream, clock=lambda: next(ticks))
    printer.step("Building", "www")
    assert stream.getvalue() == "[www] -----> Building (t+1.2s)\n"


def test_host_names_are_valid_and_distinct_per_deploy():
    assert namespace.host_name("Mine_strone", "workers", 0, "d7") == "mine-strone-workers-0-d7"
    assert len(namespace.host_name("x" * 80, "www", 1, "d2")) <= 63
    argv = namespace.wrap(["true"], hostname="app-www-0-d1")
    assert "--uts" in argv
    assert "echo app-www-0-d1 > /proc/sys/kernel/hostname" in argv[argv.index("-c") + 1]


def test_an_applications_postgresql_keeps_fsync_on(monkeypatch):
    import backing_services
    from platform_sim.services import host

    asked = {}
    monkeypatch.setattr(backing_services, "postgres_server", lambda **kw: asked.update(kw) or kw)
    host.make_service("postgresql", "/data", "root")
    assert asked == {"data_dir": "/data", "user": "root", "fsync": True}


def test_a_lone_broker_is_built_with_its_virtual_host(monkeypatch):
    import backing_services
    from platform_sim.services import host

    asked = {}
    monkeypatch.setattr(backing_services, "rabbitmq_server", lambda **kw: asked.update(kw) or kw)
    host.make_service("rabbitmq", "/data", "abcdefgh", vhost="abcdefgh")
    assert asked == {"data_dir": "/data", "user": "abcdefgh", "vhost": "abcdefgh"}
    asked.clear()
    host.make_service("rabbitmq", "/data", "root")
    assert asked == {"data_dir": "/data", "user": "root", "vhost": "/"}
