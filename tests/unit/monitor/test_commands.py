"""The tutorial's commands: celeryd translates the old options; celerycam takes the camera's."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from celery.bin.base import CLIContext
from celery.bin.worker import worker as celery_worker_command
from django.core.management import call_command
from django.core.management.base import CommandError

from minestrone.celery_app import app as celery_app
from minestrone.monitor.management.commands import celerycam, celeryd
from minestrone.monitor.runner import CameraRunner
from minestrone.monitor.worker_options import OPTIONS

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def started(monkeypatch):
    """Record the argv celeryd would hand to Celery instead of starting a worker."""
    calls = []

    def run_worker(self, argv):
        calls.append(argv)
        return 0

    monkeypatch.setattr(celeryd.Command, "run_worker", run_worker)
    return calls


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (["-E", "-l", "info", "-c", "2"], ["--events", "--loglevel", "info", "--concurrency", "2"]),
        (["--events", "--loglevel=INFO"], ["--events", "--loglevel", "INFO"]),
        (["--maxtasksperchild=10"], ["--max-tasks-per-child", "10"]),
        (["--maxmemperchild", "12000"], ["--max-memory-per-child", "12000"]),
        (["-Ofair"], ["-O", "fair"]),
        (
            ["-Q", "default", "-n", "w1@%h", "--pidfile", "/tmp/w.pid", "-f", "/tmp/w.log"],
            [
                "--queues",
                "default",
                "--hostname",
                "w1@%h",
                "--logfile",
                "/tmp/w.log",
                "--pidfile",
                "/tmp/w.pid",
            ],
        ),
        (["-B", "-s", "/tmp/schedule"], ["--beat", "--schedule", "/tmp/schedule"]),
        (["--discard"], ["--purge"]),
        (["-P", "threads", "--autoscale=4,1"], ["--pool", "threads", "--autoscale", "4,1"]),
        (
            ["--time-limit", "60", "--soft-time-limit", "50"],
            ["--time-limit", "60", "--soft-time-limit", "50"],
        ),
        # options the old celeryd did not know are passed on as they are
        (
            ["--prefetch-multiplier", "4", "-E", "--disable-prefetch", "--queues=a,b"],
            ["--events", "--queues", "a,b", "--prefetch-multiplier", "4", "--disable-prefetch"],
        ),
    ],
)
def test_old_options_become_celery_5_options(started, old, new):
    call_command("celeryd", *old)
    assert started == [["worker", *new]]


@pytest.mark.parametrize(
    "old",
    [
        ["-E", "-l", "info", "-c", "2"],
        ["-Q", "default", "-X", "other", "-n", "w1@%h", "-Ofair", "-I", "os", "-S", "/tmp/s"],
        [
            "--maxtasksperchild=10",
            "--maxmemperchild=100",
            "--purge",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--heartbeat-interval",
            "5",
        ],
        ["-B", "-s", "/tmp/sched", "--scheduler", "x.Y", "-P", "solo", "--autoscale", "3,1"],
        ["--uid", "1000", "--gid", "1000", "--umask", "22", "--pidfile", "p", "-f", "l"],
    ],
)
def test_celery_5_accepts_every_translated_option(started, old):
    call_command("celeryd", *old)
    [argv] = started
    assert argv[0] == "worker"
    cli = CLIContext(app=celery_app, no_color=True, workdir=None, quiet=True)
    context = celery_worker_command.make_context("worker", argv[1:], obj=cli)
    assert context.params  # click parsed every option without an error


def test_removed_options_are_dropped_with_a_warning(started, capsys):
    call_command("celeryd", "--autoreload", "--no-execv", "-E")
    assert started == [["worker", "--events"]]
    err = capsys.readouterr().err
    assert "ignored: --autoreload was removed in Celery 4" in err
    assert "ignored: --no-execv" in err


@pytest.mark.parametrize("flag", ["-D", "--detach"])
def test_detach_is_refused_with_a_reason(started, flag):
    with pytest.raises(CommandError, match="run it in the foreground under a supervisor"):
        call_command("celeryd", flag)
    assert started == []


def test_a_failing_worker_exit_status_is_the_commands(monkeypatch):
    monkeypatch.setattr(celeryd.Command, "run_worker", lambda self, argv: 2)
    with pytest.raises(SystemExit) as exit_info:
        call_command("celeryd", "-E")
    assert exit_info.value.code == 2


def help_text(command_class, name):
    return command_class.Command().create_parser("manage.py", name).format_help()


def test_celeryd_help_documents_every_old_option():
    text = help_text(celeryd, "celeryd")
    assert "celeryd options" in text
    for option in OPTIONS:
        for flag in option.flags:
            assert flag in text
    assert "passed on to `celery worker`" in " ".join(text.split())


def test_celerycam_help_documents_its_options():
    text = help_text(celerycam, "celerycam")
    for flag in (
        "-F",
        "--frequency",
        "-r",
        "--maxrate",
        "--logfile",
        "--pidfile",
        "--cleanup-interval",
        "--camera",
        "--loglevel",
    ):
        assert flag in text
    assert "SIGTERM" in text


@pytest.mark.parametrize("module", [celeryd, celerycam])
def test_every_option_has_help(module):
    command = module.Command()
    assert command.help
    parser = command.create_parser("manage.py", module.__name__.rsplit(".", 1)[-1])
    for action in parser._actions:
        assert action.help, f"{action.option_strings} has no help"


@pytest.mark.parametrize("name", ["celeryd", "celerycam"])
def test_help_on_the_real_command_line(name):
    env = {**os.environ, "MINESTRONE_ENV_FILE": "", "DJANGO_SETTINGS_MODULE": "minestrone.settings"}
    result = subprocess.run(
        [sys.executable, "minestrone/manage.py", name, "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "--pidfile" in result.stdout


@pytest.fixture
def camera_runs(monkeypatch):
    runs = []

    def run(self):
        runs.append(self.options)

    monkeypatch.setattr(CameraRunner, "run", run)
    monkeypatch.setattr(CameraRunner, "install_signal_handlers", lambda self: None)
    return runs


def test_celerycam_runs_the_camera_with_its_options(camera_runs):
    call_command(
        "celerycam",
        "-F",
        "2.5",
        "-r",
        "10/m",
        "--cleanup-interval",
        "600",
        "--logfile",
        "/tmp/cam.log",
        "--pidfile",
        "/tmp/cam.pid",
        "-l",
        "debug",
    )
    [options] = camera_runs
    assert (options.freq, options.maxrate, options.cleanup_freq) == (2.5, "10/m", 600.0)
    assert (options.logfile, options.pidfile, options.loglevel) == (
        "/tmp/cam.log",
        "/tmp/cam.pid",
        "DEBUG",
    )
    assert options.camera == "minestrone.monitor.camera.Camera"


def test_celerycam_defaults_come_from_the_settings(camera_runs, settings):
    settings.MONITOR_CAMERA_FREQUENCY = 3.0
    call_command("celerycam")
    [options] = camera_runs
    assert (options.freq, options.maxrate, options.cleanup_freq) == (3.0, None, None)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--maxrate", "lots"], "is not a rate"),
        (["-l", "chatty"], "--loglevel"),
    ],
)
def test_celerycam_refuses_bad_options(camera_runs, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("celerycam", *args)
    assert camera_runs == []


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_celerycam_refuses_a_frequency_that_is_not_positive(camera_runs, value):
    with pytest.raises(CommandError):
        call_command("celerycam", "--frequency", value)
