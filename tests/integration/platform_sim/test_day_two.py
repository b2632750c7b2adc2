"""Day-two operations on the tiny fixture app, pushed for real: logs, run, env, scale, restart,
status, url, revisions and rollback, info, destroy SVC, and bad input.

The tests of this module run in order against one application; every redeploy is watched by a
client sending requests continuously, which must see no failed request.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import time
from pathlib import Path

import pytest

from platform_sim.hosts.processes import children

from .conftest import Hammer, get, info, run_cli, start_cli, wait_for

pytestmark = pytest.mark.integration
APP = "day2"


@pytest.fixture(scope="module")
def url(sim_home, folder):
    run_cli(sim_home, "-A", APP, "push", str(folder), check=True)
    return info(sim_home, APP)["url"]


def cli(sim_home, *args, check=False):
    return run_cli(sim_home, "-A", APP, *args, check=check)


def answer(url):
    status, body = get(url)
    assert status == 200, body
    return json.loads(body)


def redeploy_under_load(sim_home, url, *args):
    """Run a redeploying command while a client keeps sending requests; none may fail."""
    with Hammer(url) as client:
        result = cli(sim_home, *args, check=True)
    assert len(client.outcomes) > 20, "the client barely ran during the redeploy"
    assert client.failures == [], f"{client.failures[:5]} {client.explain(sim_home)}"
    return result


@pytest.mark.parametrize(
    "args",
    [
        ["logs", "--no-follow"],
        ["run", "www.0", "true"],
        ["scale", "www=2"],
        ["restart", "www.0"],
        ["status"],
        ["url"],
        ["revisions"],
        ["deploy", "latest"],
        ["destroy", "www", "-y"],
    ],
    ids=lambda args: args[0],
)
def test_commands_on_an_app_never_pushed_say_so(sim_home, args):
    result = run_cli(sim_home, "-A", "never-pushed", *args)
    assert result.returncode == 2
    assert result.stderr == (
        "platform_sim: error: application 'never-pushed' has never been pushed, so there is "
        "nothing to act on: push it first (platform_sim -A never-pushed push PATH)\n"
    )
    assert not (sim_home / "never-pushed").exists()


def test_logs_history_is_prefixed_and_selected(sim_home, url):
    wait_for(
        lambda: "tick from" in cli(sim_home, "logs", "workers", "--no-follow").stdout, 10, "ticks"
    )
    lines = cli(
        sim_home, "logs", "workers", "--no-follow", "-n", "2", check=True
    ).stdout.splitlines()
    assert lines and all(line.startswith("[workers.0] ") for line in lines)
    assert "[workers.0] ==> /var/log/supervisor/echoer.log <==" in lines
    assert "[workers.0] tick from workers.0" in lines
    echoer = lines.index("[workers.0] ==> /var/log/supervisor/echoer.log <==")
    assert lines[echoer + 1 : echoer + 3] == ["[workers.0] tick from workers.0"] * 2
    get(url)
    one = cli(sim_home, "logs", "www.1", "--no-follow", check=True).stdout.splitlines()
    assert {line.split(" ", 1)[0] for line in one} == {"[www.1]"}
    everything = cli(sim_home, "logs", "--no-follow", "-n", "1", check=True).stdout
    prefixes = {line.split(" ", 1)[0] for line in everything.splitlines()}
    assert {"[www.0]", "[www.1]", "[workers.0]", "[db.0]"} <= prefixes
    assert "/var/log/nginx/access.log <==" in everything


def test_logs_follow_shows_lines_as_they_are_written(sim_home, url):
    www0 = info(sim_home, APP)["services"]["www"]["instances"][0]["url"]
    follower = start_cli(sim_home, "-A", APP, "logs", "www.0", "-n", "0")
    try:
        time.sleep(1.5)  # the follower has started and reached the files' ends
        probe = f"probe-{secrets.token_hex(4)}"
        get(f"{www0}{probe}")
        deadline = time.monotonic() + 10
        seen = []
        while not any(probe in line for line in seen):
            assert time.monotonic() < deadline, f"the request never showed up: {seen}"
            seen.append(follower.stdout.readline())
        assert follower.poll() is None  # still following: the line came while it ran
        assert all(line.startswith("[www.0] ") for line in seen)
    finally:
        follower.send_signal(signal.SIGINT)
        follower.wait(10)


def test_run_executes_in_the_instance_and_returns_its_status(sim_home, url):
    script = "echo $DOTCLOUD_SERVICE_NAME.$DOTCLOUD_SERVICE_ID $HOME $(pwd) $(hostname); exit 3"
    result = cli(sim_home, "run", "workers", "--", "sh", "-c", script)
    assert result.returncode == 3
    deploy = info(sim_home, APP)["deploy"]
    assert result.stdout.split() == [
        "workers.0",
        "/home/dotcloud",
        "/home/dotcloud/current",
        f"{APP}-workers-0-d{deploy}",
    ]
    status = cli(sim_home, "run", "workers", "--", "supervisorctl", "status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert [line.split()[:2] for line in status.stdout.splitlines()] == [
        ["echoer", "RUNNING"],
        ["platform_watchdog", "RUNNING"],  # the platform's own (starts FATAL programs again)
        ["ticker", "RUNNING"],
    ]


def test_run_needs_an_instance_when_there_are_several(sim_home, url):
    result = cli(sim_home, "run", "www", "true")
    assert result.returncode == 2
    assert result.stderr == (
        "platform_sim: error: www has 2 instances (www.0, www.1): name one, e.g. run www.0\n"
    )
    for target in ("nope", "www.5", "db", "WWW"):
        result = cli(sim_home, "run", target, "true")
        assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, target


def test_env_set_redeploys_with_the_variables_everywhere(sim_home, url):
    before = info(sim_home, APP)["deploy"]
    redeploy_under_load(sim_home, url, "env", "set", "GREETING=bonjour", "EXTRA=a=b c")
    assert info(sim_home, APP)["deploy"] == before + 1
    assert answer(url)["greeting"] == "bonjour"  # overrides the build file's environment:
    env = cli(sim_home, "run", "workers", "env", check=True).stdout.splitlines()
    assert "EXTRA=a=b c" in env and "GREETING=bonjour" in env
    listed = cli(sim_home, "var", "list", check=True).stdout.splitlines()
    assert listed == ["EXTRA=a=b c", "GREETING=bonjour"]
    redeploy_under_load(sim_home, url, "env", "unset", "GREETING")
    assert answer(url)["greeting"] == "hello"  # the build file's value is back
    assert "GREETING=hello" in cli(sim_home, "run", "www.1", "env", check=True).stdout.split("\n")


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["set", "DOTCLOUD_PROJECT=x"], "DOTCLOUD_PROJECT: names starting with DOTCLOUD_ are"),
        (["set", "GOOD=1", "NOEQUALS"], "'NOEQUALS' is not NAME=VALUE"),
        (["set", "9LIVES=1"], "'9LIVES' is not a valid variable name"),
        (["unset", "NEVER_SET"], "no variable NEVER_SET in 'day2'"),
    ],
)
def test_env_bad_input_changes_nothing(sim_home, url, words, message):
    before = info(sim_home, APP)
    result = cli(sim_home, "env", *words)
    assert result.returncode == 2
    assert result.stderr.startswith(f"platform_sim: error: {message}")
    assert len(result.stderr.splitlines()) == 1
    after = info(sim_home, APP)
    assert (after["deploy"], after["variables"]) == (before["deploy"], before["variables"])


def test_scale_adds_instances_behind_the_router(sim_home, url):
    redeploy_under_load(sim_home, url, "scale", "www=3", "workers:instances=2")
    answers = {answer(url)["instance"] for _ in range(9)}
    assert answers == {"0", "1", "2"}  # round-robin over the three
    lines = cli(sim_home, "status", check=True).stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "www.0", "www.1", "www.2", "workers.0", "workers.1", "db.0",
    ]  # fmt: skip
    assert all(": up (" in line for line in lines), lines
    assert (
        "[workers.1] tick from workers.1"
        in cli(sim_home, "logs", "workers.1", "--no-follow").stdout
    )
    assert cli(sim_home, "scale", "www=3").stdout.startswith("Nothing to change")


@pytest.mark.parametrize(
    ("word", "message"),
    [
        ("db=2", "db is a postgresql data service"),
        ("www=two", "'two' is not a number of instances"),
        ("www=0", "www=0: a service runs 1 to 10 instances"),
        ("www:memory=512M", "'www:memory=512M': platform_sim scales the number of instances only"),
        ("nope=2", "no service 'nope' in application 'day2'"),
        ("www", "'www' is not SVC=N"),
    ],
)
def test_scale_bad_input_changes_nothing(sim_home, url, word, message):
    before = info(sim_home, APP)["deploy"]
    result = cli(sim_home, "scale", word)
    assert result.returncode == 2
    assert result.stderr.startswith(f"platform_sim: error: {message}")
    assert len(result.stderr.splitlines()) == 1
    assert info(sim_home, APP)["deploy"] == before


def test_restart_one_instance_and_bring_back_a_dead_one(sim_home, url):
    result = cli(sim_home, "restart", "www")
    assert result.returncode == 2 and "restart needs one instance" in result.stderr
    logs = Path(info(sim_home, APP)["services"]["www"]["instances"][1]["logs"])
    spawned = (logs / "supervisord.log").read_text().count("spawned: 'gunicorn'")
    with Hammer(url) as client:
        cli(sim_home, "restart", "www.1", check=True)
    assert client.failures == [], client.explain(sim_home)  # the others answered meanwhile
    assert (logs / "supervisord.log").read_text().count("spawned: 'gunicorn'") == spawned + 1
    pid_file = logs.parent / "platform" / "pid.json"
    for init in children(json.loads(pid_file.read_text())["pid"]):
        os.kill(init, signal.SIGKILL)  # the instance dies
    wait_for(lambda: ": down (" in cli(sim_home, "status", "www.1").stdout, 10, "www.1 down")
    cli(sim_home, "restart", "www.1", check=True)
    assert cli(sim_home, "status", "www.1", check=True).stdout.startswith("www.1: up (")


def test_url_and_status_of_one_service(sim_home, url):
    assert cli(sim_home, "url", check=True).stdout == f"www: {url}\n"
    assert cli(sim_home, "url", "www", check=True).stdout == f"www: {url}\n"
    result = cli(sim_home, "url", "workers")
    assert result.returncode == 2 and "workers is a python-worker service" in result.stderr
    assert cli(sim_home, "status", "db", check=True).stdout.startswith("db.0: up (postgresql on ")


def test_rollback_serves_the_previous_code_and_forward_again(sim_home, url, folder):
    (folder / "VERSION").write_text("2\n")
    redeploy_under_load(sim_home, url, "push", str(folder))
    assert answer(url)["version"] == "2"
    revisions = cli(sim_home, "revisions", check=True).stdout.splitlines()
    assert [line[:6] for line in revisions] == ["     1", "*    2"]
    redeploy_under_load(sim_home, url, "deploy", "previous")
    assert answer(url)["version"] == "1"
    assert answer(url)["instance"] in {"0", "1", "2"}  # the scale is kept
    assert info(sim_home, APP)["revision"] == 1
    cli(sim_home, "deploy", "latest", check=True)
    assert answer(url)["version"] == "2"
    for word, message in [("7", "revision 7 is not stored"), ("last", "'last' is not a revision")]:
        result = cli(sim_home, "deploy", word)
        assert result.returncode == 2 and message in result.stderr


def test_info_is_a_table_for_people_and_json_for_scripts(sim_home, url):
    text = cli(sim_home, "info", check=True).stdout
    header = next(line for line in text.splitlines() if line.startswith("INSTANCE"))
    assert header.split() == ["INSTANCE", "TYPE", "STATUS", "ADDRESS", "PROGRAMS", "/", "LOGIN"]
    rows = [line.split()[:3] for line in text.splitlines()[text.splitlines().index(header) + 1 :]]
    assert ["www.2", "python", "running"] in rows and ["db.0", "postgresql", "running"] in rows
    assert "revisions: 1, 2*" in text and "scale: workers=2, www=3" in text
    described = info(sim_home, APP)
    assert described["scale"] == {"www": 3, "workers": 2}
    assert [(r["revision"], r["current"]) for r in described["revisions"]] == [
        (1, False),
        (2, True),
    ]


def test_destroy_one_service(sim_home, url):
    result = cli(sim_home, "destroy", "workers", "-y", check=True)
    assert "Destroyed workers (python-worker): workers.0, workers.1" in result.stdout
    lines = cli(sim_home, "status", check=True).stdout.splitlines()
    assert not [line for line in lines if line.startswith("workers")]
    assert answer(url)["version"] == "2"  # the rest serves on
    cli(sim_home, "destroy", "db", "-y", check=True)
    assert cli(sim_home, "status", "db").stdout.startswith("db.0: down")
    assert not (sim_home / APP / "services" / "db").exists()
    result = cli(sim_home, "destroy", "nope", "-y")
    assert result.returncode == 2 and "no service 'nope'" in result.stderr
