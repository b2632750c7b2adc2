"""Push the tiny fixture app for real: router, instances, environment, redeploys, failures, destroy.

The tests of this module run in order against one application.
"""

from __future__ import annotations

import errno
import ipaddress
import json
import os
import socket
import stat
import subprocess
import threading
import time
from pathlib import Path

import psycopg2
import pytest

from platform_sim.hosts.network import RANGE as NETWORK
from platform_sim.hosts.network import Network
from platform_sim.hosts.processes import Handle

from .conftest import get, info, leftover_processes, run_cli, sed_get

pytestmark = pytest.mark.integration
APP = "tiny"


@pytest.fixture(scope="module")
def pushed(sim_home, folder):
    result = run_cli(sim_home, "-A", APP, "push", str(folder), check=True)
    return result, info(sim_home, APP)


def instance(described, service, number=0):
    return described["services"][service]["instances"][number]


def test_push_reports_the_url_and_streams_prefixed_steps(pushed):
    result, described = pushed
    url = described["url"]
    assert url.startswith("http://127.0.0.1:") and url.endswith("/")
    assert f"Your application is available at: {url}" in result.stdout
    assert "[www] Build completed successfully" in result.stdout
    assert "[workers.0] postinstall on workers.0 in /home/dotcloud/current" in result.stdout
    db = instance(described, "db")
    assert f"[db] postgresql created on {db['host']}:{db['port']}" in result.stdout


def test_router_balances_across_www_instances(pushed):
    _, described = pushed
    answers = [json.loads(get(described["url"])[1]) for _ in range(6)]
    assert {answer["instance"] for answer in answers} == {"0", "1"}
    assert {answer["version"] for answer in answers} == {"1"}
    assert answers[0]["greeting"] == "hello"  # environment: from the build file
    assert answers[0]["path"] == "/home/dotcloud/env/bin"  # ~/env/bin first on PATH


def test_nginx_includes_the_app_rules(pushed):
    _, described = pushed
    assert get(described["url"] + "static/hello.txt") == (200, "static file\n")


def test_maintenance_file_makes_nginx_answer_503(pushed):
    _, described = pushed
    www0 = instance(described, "www", 0)
    maintenance = Path(www0["home"]) / "current" / "maintenance"
    maintenance.touch()
    try:
        assert get(www0["url"])[0] == 503
    finally:
        maintenance.unlink()
    assert get(www0["url"])[0] == 200


def test_info_json_describes_services_instances_and_credentials(pushed):
    _, described = pushed
    assert described["app"] == APP
    www = described["services"]["www"]
    assert www["type"] == "python" and www["url"] == described["url"]
    assert [i["id"] for i in www["instances"]] == [0, 1]
    assert all(Path(i["home"]).is_dir() and i["status"] == "running" for i in www["instances"])
    assert set(instance(described, "www")["programs"]) == {"nginx", "gunicorn"}
    assert set(instance(described, "workers")["programs"]) == {"ticker", "echoer"}
    db = instance(described, "db")
    assert db["login"] == "root" and db["password"] and db["url"].startswith("pgsql://root:")
    addresses = [
        i["address"] for s in ("www", "workers") for i in described["services"][s]["instances"]
    ]
    addresses.append(db["host"])
    assert len(set(addresses)) == 4  # www.0, www.1, workers.0, db: a host each
    assert all(ipaddress.ip_address(a) in NETWORK for a in addresses)


def test_hosts_resolve_each_other_and_nothing_leaves_the_range(sim_home, pushed):
    _, described = pushed
    db = instance(described, "db")
    result = run_cli(
        sim_home,
        "-A",
        APP,
        "run",
        "workers",
        "--",
        "python3",
        "-c",
        "import socket; print(socket.gethostbyname('db'), socket.gethostname())",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == db["host"]
    routes = subprocess.run(["ip", "route", "show", str(NETWORK)], capture_output=True, text=True)
    assert routes.stdout.startswith("unreachable 198.18.0.0/15")
    started = time.monotonic()
    with pytest.raises(OSError) as refused, socket.socket() as sock:
        sock.settimeout(5)
        sock.connect(("198.19.255.254", 80))  # no host has it: refused here, at once
    assert refused.value.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH)
    assert time.monotonic() - started < 1


def test_environment_file_for_the_tutorial_sed_helper(pushed):
    _, described = pushed
    for service, number in (("www", 0), ("www", 1), ("workers", 0)):
        path = Path(instance(described, service, number)["home"]) / "environment.json"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert sed_get(path, "DOTCLOUD_SERVICE_NAME") == service
        assert sed_get(path, "DOTCLOUD_SERVICE_ID") == str(number)
        assert sed_get(path, "DOTCLOUD_DB_SQL_LOGIN") == "app"  # its own role, not root
        assert sed_get(path, "DOTCLOUD_WWW_HTTP_URL") == described["url"]
        yml = path.with_name("environment.yml")
        assert stat.S_IMODE(yml.stat().st_mode) == 0o600


def test_each_instance_has_its_own_var_log_supervisor(pushed):
    _, described = pushed
    workers = Path(instance(described, "workers")["logs"])
    deadline = time.monotonic() + 10
    while "tick from workers.0" not in (workers / "echoer.log").read_text():
        assert time.monotonic() < deadline, "the postinstall-written program never logged"
        time.sleep(0.2)
    assert (workers / "ticker.log").exists()  # a program from `processes:`
    www_logs = {instance(described, "www", n)["logs"] for n in (0, 1)}
    assert len(www_logs) == 2 and workers.as_posix() not in www_logs
    assert not (Path(instance(described, "www")["logs"]) / "echoer.log").exists()
    assert not Path("/var/log/supervisor/echoer.log").exists()


def test_postinstall_saw_a_database_accepting_connections(pushed):
    _, described = pushed
    db = instance(described, "db")
    with (
        psycopg2.connect(
            host=db["host"],
            port=db["port"],
            user=db["login"],
            password=db["password"],
            dbname="postgres",
        ) as conn,
        conn.cursor() as cur,
    ):
        cur.execute("CREATE TABLE IF NOT EXISTS kept (value text)")
        cur.execute("INSERT INTO kept VALUES ('survives pushes')")
    conn.close()
    data = Path(instance(described, "workers")["data"])
    assert (data / "last-postinstall").exists()


def test_second_push_serves_new_code_without_downtime(sim_home, folder, pushed):
    _, before = pushed
    (folder / "VERSION").write_text("2\n")
    statuses: list[int] = []
    stop = threading.Event()

    def hammer():
        while not stop.is_set():
            statuses.append(get(before["url"])[0])
            time.sleep(0.02)

    thread = threading.Thread(target=hammer)
    thread.start()
    try:
        result = run_cli(sim_home, "-A", APP, "push", str(folder), check=True)
    finally:
        stop.set()
        thread.join()
    assert "Reusing the virtualenv" in result.stdout  # requirements unchanged
    assert json.loads(get(before["url"])[1])["version"] == "2"
    assert statuses and set(statuses) == {200}
    after = info(sim_home, APP)
    assert after["url"] == before["url"]
    db_before, db_after = instance(before, "db"), instance(after, "db")
    assert (db_after["port"], db_after["password"]) == (db_before["port"], db_before["password"])
    data = Path(instance(after, "workers")["data"])
    assert (
        data == Path(instance(before, "workers")["data"]) and (data / "last-postinstall").exists()
    )
    for number in (0, 1):  # the old instances are gone
        assert not Path(instance(before, "www", number)["home"]).exists()
    with (
        psycopg2.connect(
            host=db_after["host"],
            port=db_after["port"],
            user="root",
            password=db_after["password"],
            dbname="postgres",
        ) as conn,
        conn.cursor() as cur,
    ):
        cur.execute("SELECT value FROM kept")
        assert cur.fetchone() == ("survives pushes",)
    conn.close()


def test_failing_postinstall_leaves_the_previous_version_serving(sim_home, folder):
    before = info(sim_home, APP)
    (folder / "VERSION").write_text("3\n")
    (folder / "FAIL").touch()
    try:
        result = run_cli(sim_home, "-A", APP, "push", str(folder))
    finally:
        (folder / "FAIL").unlink()
    assert result.returncode == 5
    first = result.stderr.splitlines()[0]
    assert first.startswith("platform_sim: error: [")
    assert "] postinstall exited with status 3" in first
    assert "postinstall: failing on purpose" in result.stderr  # the tail of its output
    assert "Traceback" not in result.stderr
    assert json.loads(get(before["url"])[1])["version"] == "2"
    after = info(sim_home, APP)
    assert after["deploy"] == before["deploy"]
    failed = sim_home / APP / "deploys" / str(before["deploy"] + 1)
    assert not failed.exists()
    assert not [p for p in leftover_processes(sim_home) if f"deploys/{before['deploy'] + 1}/" in p]


def test_build_file_error_is_reported_with_its_position(sim_home, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "dotcloud.yml").write_text("www:\n  type: lolita\n")
    result = run_cli(sim_home, "push", str(broken))
    assert result.returncode == 3
    assert result.stderr == (
        'platform_sim: error: Unrecognized service "lolita" in "dotcloud.yml", line 2, column 9\n'
    )
    assert not (sim_home / "broken").exists()


def test_destroy_stops_everything_and_removes_the_state(sim_home):
    pid_files = list((sim_home / APP).rglob("pid.json"))
    handles = [json.loads(path.read_text()) for path in pid_files]
    assert len(handles) == 5  # router, www.0, www.1, workers.0, db
    network = Network(sim_home / APP)
    assert Path(f"/sys/class/net/{network.bridge}").exists()
    result = run_cli(sim_home, "-A", APP, "destroy", "-y", check=True)
    assert not Path(f"/sys/class/net/{network.bridge}").exists()
    assert not [name for name in os.listdir("/run/netns") if name.startswith(f"ps{network.tag}-")]
    assert not list(Path("/etc/netns").glob(f"ps{network.tag}-*"))
    assert "6 process tree(s) stopped" in result.stdout  # and the router's forwarder
    assert not (sim_home / APP).exists()
    for handle in handles:  # gone, or at most a zombie waiting for init to reap it
        assert not Handle.from_json(handle).alive()
    assert leftover_processes(sim_home) == []
