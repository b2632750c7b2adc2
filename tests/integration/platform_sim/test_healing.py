"""The platform heals, on real servers: a killed PostgreSQL or RabbitMQ comes back by itself with
its data, ``restart db``/``restart broker`` work, ``status``/``info`` say the truth meanwhile,
a program crash-looped into FATAL is started again by the platform's watchdog, and the router's
nginx and loopback forwarder come back when killed."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import time
import xmlrpc.client
from pathlib import Path
from unittest import mock

import psycopg2
import pytest

from platform_sim.cli.main import main as cli_main
from platform_sim.hosts import watchdog
from platform_sim.hosts.processes import children, descendants
from platform_sim.hosts.processes import command_name as comm
from platform_sim.render.supervisor import WATCHDOG_NAME
from tests.pace import within

from .conftest import get, info, run_cli, wait_for

pytestmark = pytest.mark.integration
APP = "heal"
# Bounds stated for the reference machine, stretched on a slower one (tests/pace.py).
BACK_WITHIN = within(15.0)  # a killed data server serves again within this, with no redeploy
WATCHDOG_WITHIN = within(60.0)  # a program in FATAL runs again within this


@pytest.fixture(scope="module")
def app(sim_home, folder):
    with open(folder / "dotcloud.yml", "a") as handle:
        handle.write("\nbroker:\n  type: rabbitmq\n")
    run_cli(sim_home, "-A", APP, "push", str(folder), check=True)
    return sim_home / APP


def cli(sim_home, *args, check=False):
    return run_cli(sim_home, "-A", APP, *args, check=check)


def host_pid(root: int, name: str) -> int:
    """The first process called ``name`` under ``root`` whose parent is not called so too."""
    for pid in descendants(root):
        parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        if comm(pid) == name and comm(parent) != name:
            return pid
    raise AssertionError(f"no {name} process under {root}")


def data_host(app_root: Path, service: str) -> int:
    return json.loads((app_root / "services" / service / "pid.json").read_text())["pid"]


def data_entry(sim_home, service: str) -> dict:
    return info(sim_home, APP)["services"][service]["instances"][0]


def query(entry: dict, sql: str):
    with contextlib.closing(
        psycopg2.connect(
            host=entry["host"],
            port=entry["port"],
            user=entry["login"],
            password=entry["password"],
            dbname="postgres",
            connect_timeout=3,
        )
    ) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall() if cur.description else None


def status_line(sim_home, target: str) -> str:
    return cli(sim_home, "status", target, check=True).stdout.strip()


def status_now(sim_home, target: str) -> str:
    """``status TARGET`` run in this process (no interpreter to start: it answers at once)."""
    out, err = io.StringIO(), io.StringIO()
    with mock.patch.dict(os.environ, {"PLATFORM_SIM_HOME": str(sim_home)}):
        assert cli_main(["-A", APP, "status", target], out=out, err=err) == 0, err.getvalue()
    return out.getvalue().strip()


def test_a_killed_postmaster_comes_back_with_its_data(sim_home, app):
    entry = data_entry(sim_home, "db")
    query(entry, "CREATE TABLE IF NOT EXISTS kept (word text); INSERT INTO kept VALUES ('soup')")
    host = data_host(app, "db")
    keeper = children(host)[0]  # the data host's own process, under unshare
    # Freeze the keeper first, so that the moment between the death and the restart is seen.
    os.kill(keeper, signal.SIGSTOP)
    try:
        os.kill(host_pid(host, "postgres"), signal.SIGKILL)
        time.sleep(1)
        assert status_line(sim_home, "db").startswith("db.0: down (postgresql does not answer")
        assert data_entry(sim_home, "db")["status"] == "down"
    finally:
        os.kill(keeper, signal.SIGCONT)
    killed = time.monotonic()
    wait_for(lambda: "up" in status_line(sim_home, "db"), BACK_WITHIN, "db up again")
    assert time.monotonic() - killed < BACK_WITHIN
    after = data_entry(sim_home, "db")
    assert (after["port"], after["password"], after["status"]) == (
        entry["port"],
        entry["password"],
        "running",
    )
    assert ("soup",) in query(after, "SELECT word FROM kept")
    log = cli(sim_home, "logs", "db", "--no-follow", "-n", "40", check=True).stdout
    assert "postgresql server is not running: restarting it" in log


def test_a_killed_broker_comes_back_without_a_redeploy(sim_home, app):
    entry = data_entry(sim_home, "broker")
    deploy = info(sim_home, APP)["deploy"]
    host = data_host(app, "broker")
    os.kill(host_pid(host, "beam.smp"), signal.SIGKILL)
    killed = time.monotonic()
    wait_for(
        lambda: data_entry(sim_home, "broker")["status"] == "running", BACK_WITHIN, "broker up"
    )
    assert time.monotonic() - killed < BACK_WITHIN
    assert data_entry(sim_home, "broker")["port"] == entry["port"]
    assert info(sim_home, APP)["deploy"] == deploy  # no redeploy


@pytest.mark.parametrize("service", ["db", "broker"])
def test_restart_a_data_service(sim_home, app, service):
    before = data_entry(sim_home, service)
    result = cli(sim_home, "restart", service)
    assert result.returncode == 0, result.stderr
    assert "restarted and ready" in result.stdout
    after = data_entry(sim_home, service)
    assert (after["status"], after["port"]) == ("running", before["port"])


def test_restart_of_a_data_service_instance_other_than_0_is_refused(sim_home, app):
    result = cli(sim_home, "restart", "db.1")
    assert result.returncode == 2
    assert "db has db.0" in result.stderr


def test_a_program_crash_looped_into_fatal_is_started_again(sim_home, app):
    instance = next(
        i for i in info(sim_home, APP)["services"]["workers"]["instances"] if i["id"] == 0
    )
    home = Path(instance["home"])
    control = xmlrpc.client.ServerProxy(
        watchdog.control_url(str(home / "platform" / "supervisord.conf"))
    ).supervisor
    root = json.loads((home / "platform" / "pid.json").read_text())["pid"]

    def state() -> dict:
        return control.getProcessInfo("echoer")

    def on_the_host(inside: int) -> int | None:
        """The host's pid of the instance's process ``inside`` (its pid in the instance)."""
        for pid in descendants(root):
            with contextlib.suppress(OSError):
                nspid = Path(f"/proc/{pid}/status").read_text().split("NSpid:")[1].split("\n")[0]
                if inside and int(nspid.split()[-1]) == inside:
                    return pid
        return None

    # the watchdog paused while echoer is FATAL, so that its status can be read before it
    # runs again (a second later: less than a loaded machine takes to ask)
    watchdog_pid = on_the_host(control.getProcessInfo(WATCHDOG_NAME)["pid"])
    assert watchdog_pid is not None
    os.kill(watchdog_pid, signal.SIGSTOP)
    try:
        deadline = time.monotonic() + 60
        while state()["statename"] != "FATAL":  # kill its main process whenever it runs
            assert time.monotonic() < deadline, "echoer never reached FATAL"
            pid = on_the_host(state()["pid"])
            if pid is not None:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)
        assert status_now(sim_home, "workers.0").startswith("workers.0: down (echoer FATAL")
    finally:
        os.kill(watchdog_pid, signal.SIGCONT)
    fatal = time.monotonic()
    wait_for(lambda: state()["statename"] == "RUNNING", WATCHDOG_WITHIN, "echoer running")
    assert time.monotonic() - fatal < WATCHDOG_WITHIN
    log = cli(sim_home, "logs", "workers.0", "--no-follow", "-n", "20", check=True).stdout
    assert "platform watchdog: echoer:echoer is FATAL" in log
    assert "started echoer:echoer again" in log
    assert "platform_watchdog" not in json.dumps(
        info(sim_home, APP)["services"]["workers"]["instances"][0]["programs"]
    )


def answers(url: str) -> bool:
    try:
        return get(url, timeout=2)[0] == 200
    except OSError:
        return False


def kept_process(app_root: Path, record: str, module: str) -> int:
    """The process that the router's keeper (pid record ``record``) keeps running ``module``."""
    root = json.loads((app_root / "router" / record).read_text())["pid"]
    for pid in descendants(root):
        words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if module.encode() in words and b"platform_sim.hosts.keeper" not in words:
            return pid
    raise AssertionError(f"no {module} under {root}")


@pytest.mark.parametrize(
    ("record", "module", "log"),
    [
        ("forwarder.json", "platform_sim.hosts.forwarder", "forwarder.out"),
        ("pid.json", "", "nginx.out"),
    ],
    ids=["forwarder", "nginx"],
)
def test_a_killed_router_process_comes_back(sim_home, app, record, module, log):
    url = info(sim_home, APP)["url"]
    assert answers(url)
    if module:
        victim = kept_process(app, record, module)
    else:  # the nginx master
        victim = host_pid(json.loads((app / "router" / record).read_text())["pid"], "nginx")
    os.kill(victim, signal.SIGKILL)
    killed = time.monotonic()
    said = "killed by SIGKILL: starting it again"
    wait_for(lambda: said in (app / "router" / log).read_text(), BACK_WITHIN, "the keeper")
    wait_for(lambda: answers(url), BACK_WITHIN, "the site to answer again")
    assert time.monotonic() - killed < BACK_WITHIN
