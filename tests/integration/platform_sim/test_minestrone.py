"""End to end: push THIS repository with platform_sim and use the tutorial's app through it."""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import json
import os
import re
import secrets
import signal
import time
import urllib.error
import xmlrpc.client
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import psycopg2
import pytest

from platform_sim.hosts import watchdog
from platform_sim.hosts.processes import command_name as comm
from platform_sim.hosts.processes import descendants
from tests.integration.app_role import check_app_role
from tests.integration.browser import check_deployed
from tests.pace import within

from .conftest import REPO, Browser, info, run_cli, sed_get, wait_for

pytestmark = pytest.mark.integration
APP = "minestrone-e2e"
# Bounds stated for the reference machine, stretched on a slower one (tests/pace.py).
FROZEN_ANSWER_WITHIN = within(40.0)  # the deadlines (5 s to connect, 12 s of silence) and slack
WATCHDOG_WITHIN = within(60.0)  # a worker in FATAL runs jobs again within this


@pytest.fixture(scope="module")
def deployed(sim_home):
    key = secrets.token_urlsafe(40)
    run_cli(sim_home, "-A", APP, "env", "set", f"DJANGO_SECRET_KEY={key}", check=True)
    result = run_cli(sim_home, "-A", APP, "push", str(REPO), check=True, timeout=900)
    return result, info(sim_home, APP)


def first(described, service):
    return described["services"][service]["instances"][0]


def host_pid(root: int, inside: int) -> int:
    """The pid, as this machine sees it, of the process ``inside`` names in root's namespace."""
    for pid in descendants(root):
        with contextlib.suppress(OSError, IndexError, ValueError):
            status = Path(f"/proc/{pid}/status").read_text()
            if int(status.split("NSpid:")[1].split("\n")[0].split()[-1]) == inside:
                return pid
    raise AssertionError(f"no process {inside} under {root}")


def established(pid: int) -> set[tuple[str, int, str, int]]:
    """(local address, port, remote address, port) of the TCP connections of pid's namespace."""
    found = set()
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        local, remote, state = line.split()[1:4]
        if state == "01":
            ends = []
            for end in (local, remote):
                address, port = end.split(":")
                ends += [str(ipaddress.IPv4Address(bytes.fromhex(address)[::-1])), int(port, 16)]
            found.add(tuple(ends))
    return found


def test_the_workers_reach_the_broker_and_the_database_across_the_bridge(sim_home, deployed):
    described = info(sim_home, APP)
    workers = first(described, "workers")
    broker, db = first(described, "broker"), first(described, "db")
    assert len({workers["address"], broker["host"], db["host"]}) == 3
    home = Path(workers["home"])
    control = xmlrpc.client.ServerProxy(
        watchdog.control_url(str(home / "platform" / "supervisord.conf"))
    ).supervisor
    root = json.loads((home / "platform" / "pid.json").read_text())["pid"]
    worker = host_pid(root, control.getProcessInfo("djcelery")["pid"])
    camera = host_pid(root, control.getProcessInfo("celerycam")["pid"])
    to_broker = (broker["host"], broker["port"])
    to_db = (db["host"], db["port"])
    wait_for(
        lambda: any(c[0] == workers["address"] and c[2:] == to_broker for c in established(worker)),
        30,
        "the worker's connection to the broker",
    )
    wait_for(
        lambda: any(c[0] == workers["address"] and c[2:] == to_db for c in established(camera)),
        30,
        "the camera's connection to the database",
    )
    assert not [c for c in established(worker) if c[2] == "127.0.0.1" and c[3] == broker["port"]]


def test_push_ends_with_url_and_admin_credentials(deployed):
    result, described = deployed
    assert f"Your application is available at: {described['url']}" in result.stdout
    password_file = Path(first(described, "www")["admin_password_file"])
    assert f"Admin credentials: user admin, password in {password_file}" in result.stdout
    assert oct(password_file.stat().st_mode & 0o777) == "0o600"
    assert password_file.read_text().strip() not in result.stdout + result.stderr


def test_environment_file_parses_with_the_tutorial_sed_helper(deployed):
    _, described = deployed
    path = Path(first(described, "workers")["home"]) / "environment.json"
    assert sed_get(path, "DOTCLOUD_SERVICE_NAME") == "workers"
    assert sed_get(path, "DOTCLOUD_PROJECT") == APP
    assert sed_get(path, "DOTCLOUD_DB_SQL_PORT") == str(first(described, "db")["port"])
    assert sed_get(path, "DOTCLOUD_BROKER_AMQP_LOGIN") == first(described, "broker")["login"]


def test_the_app_logs_in_as_a_role_owning_its_database_and_nothing_more(deployed):
    _, described = deployed
    db = first(described, "db")  # the superuser, which only platform_sim knows
    environments = [
        json.loads((Path(first(described, service)["home"]) / "environment.json").read_text())
        for service in ("www", "workers")
    ]
    for environment in environments:
        assert environment["DOTCLOUD_DB_SQL_LOGIN"] != db["login"]
        assert db["password"] not in json.dumps(environment)
    environment = environments[0]
    login, database = environment["DOTCLOUD_DB_SQL_LOGIN"], environment["DOTCLOUD_DB_SQL_DATABASE"]
    params = {
        "host": environment["DOTCLOUD_DB_SQL_HOST"],
        "port": int(environment["DOTCLOUD_DB_SQL_PORT"]),
        "user": login,
        "password": environment["DOTCLOUD_DB_SQL_PASSWORD"],
    }
    check_app_role(params, database)
    with contextlib.closing(psycopg2.connect(**params, dbname=database)) as connection:
        cursor = connection.cursor()
        cursor.execute("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")
        assert cursor.fetchall() == [(login,)]  # migrate_safely ran as the app's role
        cursor.execute("SELECT count(*) FROM django_migrations")
        assert cursor.fetchone()[0] > 10


def test_workers_run_djcelery_and_celerycam_and_www_does_not(deployed):
    _, described = deployed
    workers = first(described, "workers")["programs"]
    assert workers == {"celerycam": "RUNNING", "djcelery": "RUNNING"}
    www = first(described, "www")["programs"]
    assert set(www) == {"gunicorn", "nginx"}
    logs = Path(first(described, "workers")["logs"])
    assert (logs / "djcelery.log").exists() and (logs / "celerycam.log").exists()


def test_editor_queues_a_job_a_worker_runs_and_the_admin_shows_it(deployed):
    _, described = deployed
    browser = Browser(described["url"])
    job = f"e2e-{secrets.token_hex(4)}"
    browser.post_form("/", {"job_name": job, "routing_key_name": "soup"})
    logs = Path(first(described, "workers")["logs"])

    def worker_ran_it():
        text = "".join(path.read_text(errors="replace") for path in logs.glob("djcelery*.log"))
        return f"Lazy job {job} completed" in text

    wait_for(worker_ran_it, 60, f"the worker to run {job}")
    admin = Browser(described["url"])
    password = Path(first(described, "www")["admin_password_file"]).read_text().strip()
    admin.post_form("/admin/login/?next=/admin/", {"username": "admin", "password": password})
    wait_for(
        lambda: job in admin.get(f"/admin/monitor/taskstate/?q={job}"),
        60,
        "the admin to list the job",
    )


def test_pages_as_deployed_load_whole_live_and_fit_both_widths(deployed):
    """Through the router and nginx: the story from the form to SUCCESS without a reload, then
    every page's stylesheets, scripts and images served right, no CSP violation, at both widths
    (screenshots platform_sim-*.png)."""
    _, described = deployed
    password = Path(first(described, "www")["admin_password_file"]).read_text().strip()
    assert check_deployed(described["url"], password, "platform_sim") == {}


LOGIN = "/admin/login/?next=/admin/"


class Client:
    """HTTP from a loopback address of its own (127.0.0.N), keeping cookies: another machine."""

    def __init__(self, url: str, source: str) -> None:
        parts = urlsplit(url)
        self.host, self.port, self.source = parts.hostname, parts.port, source
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str | None = None, headers=None):
        """(status, headers, text) of one request through the router."""
        connection = http.client.HTTPConnection(
            self.host, self.port, timeout=30, source_address=(self.source, 0)
        )
        cookies = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        connection.request(method, path, body=body, headers={"Cookie": cookies, **(headers or {})})
        response = connection.getresponse()
        text = response.read().decode(errors="replace")
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name] = rest.split(";")[0]
        connection.close()
        return response.status, response.headers, text

    def log_in(self, password: str) -> int:
        """Post the admin login form; 302 logged in, 200 refused, 429 locked out."""
        page = self.request("GET", LOGIN)[2]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        form = {"csrfmiddlewaretoken": token, "username": "admin", "password": password}
        content = {"Content-Type": "application/x-www-form-urlencoded"}
        return self.request("POST", LOGIN, urlencode(form), content)[0]


def test_responses_name_no_version_and_carry_the_security_headers(deployed):
    _, described = deployed
    client = Client(described["url"], "127.0.0.1")
    status, headers, body = client.request("GET", "/")
    assert status == 200
    assert headers.get_all("Server") == ["nginx"]
    policy = headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "style-src 'self'" in policy and "unsafe" not in policy
    assert "<style" not in body and "style=" not in body
    assert "/static/soup/site.css" in body  # served by nginx, allowed by 'self'
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    status, headers, _ = client.request("GET", "/static/admin/css/base.css")
    assert status == 200
    assert headers.get_all("Cache-Control") == ["public, max-age=604800"]
    assert headers.get_all("X-Content-Type-Options") == ["nosniff"]
    assert headers.get_all("Server") == ["nginx"]
    status, headers, body = client.request("GET", "/static/no-such-file.css")  # nginx's own page
    assert status == 404
    assert headers.get_all("Server") == ["nginx"]
    assert "nginx/" not in body


def listening(pid: int) -> set[tuple[str, int]]:
    """(address, port) of the TCP sockets listening in pid's network namespace."""
    found = set()
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        local, _, state = line.split()[1:4]
        if state == "0A":
            address, port = local.split(":")
            found.add((str(ipaddress.IPv4Address(bytes.fromhex(address)[::-1])), int(port, 16)))
    return found


def test_the_router_is_a_host_on_the_bridge_behind_a_loopback_forwarder(sim_home, deployed):
    described = info(sim_home, APP)
    router = described["router"]
    assert ipaddress.ip_address(router["address"]) in ipaddress.ip_network("198.18.0.0/15")
    port = router["port"]["www"]
    assert urlsplit(described["url"]).netloc == f"127.0.0.1:{port}"
    folder = Path(described["state"]) / "router"
    nginx = json.loads((folder / "pid.json").read_text())["pid"]
    forwarder = json.loads((folder / "forwarder.json").read_text())["pid"]
    assert os.readlink(f"/proc/{nginx}/ns/net") != os.readlink("/proc/self/ns/net")
    assert os.readlink(f"/proc/{forwarder}/ns/net") == os.readlink("/proc/self/ns/net")
    assert (router["address"], port) in listening(nginx)
    assert ("127.0.0.1", port) not in listening(nginx)
    assert ("127.0.0.1", port) in listening(forwarder)
    marker = f"/?router-check={secrets.token_hex(4)}"
    status, _, _ = Client(described["url"], "127.0.0.4").request("GET", marker)
    assert status == 200
    # nginx logs a request once it is over, which can be after the client has its answer
    logged = wait_for(
        lambda: [
            line for line in (folder / "access.log").read_text().splitlines() if marker in line
        ],
        timeout=within(10),
        what="the request's line in the router's access log",
    )
    assert logged[-1].startswith("127.0.0.4 ")  # the client, not the forwarder


def test_wrong_passwords_lock_out_the_user_from_that_address_only(sim_home, deployed):
    _, described = deployed
    password = Path(first(described, "www")["admin_password_file"]).read_text().strip()
    attacker = Client(described["url"], "127.0.0.2")
    statuses = [attacker.log_in(f"wrong-{n}") for n in range(20)]
    assert statuses[:9] == [200] * 9
    assert set(statuses[9:]) == {429}
    assert attacker.log_in(password) == 429
    assert Client(described["url"], "127.0.0.3").log_in(password) == 302
    unlocked = run_cli(
        sim_home,
        "-A",
        APP,
        "run",
        "www",
        "--",
        "sh",
        "-c",
        "cd ~/current && python mkadmin.py --unlock",
        check=True,
    )
    assert re.search(r"unlocked 'admin': [1-9]\d* lockout", unlocked.stdout), unlocked.stdout
    assert attacker.log_in(password) == 302


def test_a_second_push_replaces_the_workers_beside_the_old_ones(sim_home, deployed):
    _, before = deployed
    run_cli(sim_home, "-A", APP, "push", str(REPO), check=True, timeout=900)
    after = info(sim_home, APP)
    assert after["deploy"] == before["deploy"] + 1
    assert first(after, "workers")["programs"] == {"celerycam": "RUNNING", "djcelery": "RUNNING"}
    assert first(after, "workers")["home"] != first(before, "workers")["home"]


def test_a_frozen_database_is_a_503_and_the_camera_survives(sim_home, deployed):
    described = info(sim_home, APP)
    admin = Browser(described["url"])
    password = Path(first(described, "www")["admin_password_file"]).read_text().strip()
    admin.post_form("/admin/login/?next=/admin/", {"username": "admin", "password": password})
    assert "Tasks" in admin.get("/admin/monitor/taskstate/")
    workers = Path(first(described, "workers")["home"])
    camera = xmlrpc.client.ServerProxy(
        watchdog.control_url(str(workers / "platform" / "supervisord.conf"))
    ).supervisor
    camera_pid = camera.getProcessInfo("celerycam")["pid"]
    keeper = json.loads((sim_home / APP / "services" / "db" / "pid.json").read_text())["pid"]
    servers = [pid for pid in descendants(keeper) if comm(pid) == "postgres"]
    for pid in servers:
        os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        with pytest.raises(urllib.error.HTTPError) as answered:
            admin.get("/admin/monitor/taskstate/")
        assert answered.value.code == 503
        assert "database is not answering" in answered.value.read().decode()
        assert time.monotonic() - started < FROZEN_ANSWER_WITHIN

        def camera_said_so():
            text = "".join(p.read_text(errors="replace") for p in (workers / "log").glob("*.log"))
            return "PostgreSQL did not answer" in text

        wait_for(camera_said_so, FROZEN_ANSWER_WITHIN, "the camera to log the frozen database")
    finally:
        for pid in servers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
    wait_for(
        lambda: "Tasks" in admin.get("/admin/monitor/taskstate/"), 60, "the admin to serve again"
    )
    state = camera.getProcessInfo("celerycam")
    assert (state["statename"], state["pid"]) == ("RUNNING", camera_pid)  # it never crashed


def test_a_worker_crash_looped_into_fatal_runs_jobs_again(sim_home, deployed):
    described = info(sim_home, APP)
    workers = Path(first(described, "workers")["home"])
    control = xmlrpc.client.ServerProxy(
        watchdog.control_url(str(workers / "platform" / "supervisord.conf"))
    ).supervisor
    root = json.loads((workers / "platform" / "pid.json").read_text())["pid"]
    deadline = time.monotonic() + 120
    while control.getProcessInfo("djcelery")["statename"] != "FATAL":  # kill it as it starts
        assert time.monotonic() < deadline, "djcelery never reached FATAL"
        inside = control.getProcessInfo("djcelery")["pid"]
        for pid in descendants(root):
            with contextlib.suppress(OSError, IndexError, ValueError):
                status = Path(f"/proc/{pid}/status").read_text()
                if inside and int(status.split("NSpid:")[1].split("\n")[0].split()[-1]) == inside:
                    os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)
    fatal = time.monotonic()
    job = f"after-fatal-{secrets.token_hex(4)}"
    Browser(described["url"]).post_form("/", {"job_name": job, "routing_key_name": "soup"})

    def worker_ran_it():
        text = "".join(p.read_text(errors="replace") for p in (workers / "log").glob("djcelery*"))
        return f"Lazy job {job} completed" in text

    wait_for(worker_ran_it, WATCHDOG_WITHIN, f"a worker to run {job} after the crash loop")
    assert time.monotonic() - fatal < WATCHDOG_WITHIN
    watchdog_log = (workers / "log" / "platform_watchdog.log").read_text()
    assert "djcelery:djcelery is FATAL" in watchdog_log
