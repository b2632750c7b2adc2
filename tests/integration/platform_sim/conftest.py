"""Fixtures for platform_sim's integration tests: a private PLATFORM_SIM_HOME, the CLI run as a
subprocess, the tiny fixture app, and a check that nothing outlives the tests."""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SED_HELPER = 'sed -n "/$1/ s/.*: \\"\\(.*\\)\\".*/\\1/p" < "$HOME/environment.json"'


def _missing_requirement() -> str | None:
    if os.geteuid() != 0:
        return "platform_sim needs root (mount and PID namespaces)"
    for program in ("nginx", "unshare"):
        if shutil.which(program, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin") is None:
            return f"{program} is not installed"
    return None


@contextlib.contextmanager
def platform_home(tmp_path_factory):
    """A new PLATFORM_SIM_HOME; at the end every app in it is destroyed and nothing is left."""
    reason = _missing_requirement()
    if reason:  # never a skip: CI must not pass without having pushed anything
        pytest.fail(f"{reason}: run bin/bootstrap (nginx, util-linux) and the tests as root")
    home = tmp_path_factory.mktemp("platform_sim_home")
    try:
        yield home
    finally:
        for app in list(home.iterdir()) if home.exists() else []:
            if (app / "app.json").exists():
                run_cli(home, "-A", app.name, "destroy", "-y")
    assert leftover_processes(home) == []


@pytest.fixture(scope="module")
def sim_home(tmp_path_factory):
    """A PLATFORM_SIM_HOME of the module's own; every app in it is destroyed at the end."""
    with platform_home(tmp_path_factory) as home:
        yield home


def cli_env(home: Path) -> dict[str, str]:
    """The environment the CLI runs with: this PLATFORM_SIM_HOME, no Django settings of ours."""
    env = {**os.environ, "PLATFORM_SIM_HOME": str(home)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def start_cli(home: Path, *args: str) -> subprocess.Popen:
    """Start ``python -m platform_sim ARGS`` in the background (line-buffered text output)."""
    return subprocess.Popen(
        [sys.executable, "-m", "platform_sim", *args],
        cwd=REPO,
        env=cli_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )


def run_cli(
    home: Path, *args: str, check: bool = False, timeout: float = 600, wrapper: tuple[str, ...] = ()
):
    """Run ``python -m platform_sim ARGS`` with this PLATFORM_SIM_HOME (``wrapper``: a command
    that runs it, such as ``nice -n N``)."""
    env = cli_env(home)
    result = subprocess.run(
        [*wrapper, sys.executable, "-m", "platform_sim", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"platform_sim {' '.join(args)} exited {result.returncode}\n"
            f"--- stdout ---\n{result.stdout[-6000:]}\n--- stderr ---\n{result.stderr[-4000:]}"
        )
    return result


def leftover_processes(home: Path) -> list[str]:
    """Processes whose command line mentions ``home`` (the namespaces' unshare, servers...)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(home) in command:
            found.append(f"{entry.name}: {command}")
    return found


def info(home: Path, app: str) -> dict:
    """``info --json`` of an app."""
    return json.loads(run_cli(home, "-A", app, "info", "--json", check=True).stdout)


def get(url: str, timeout: float = 10.0) -> tuple[int, str]:
    """GET a URL: (status, body)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def sed_get(environment_file: Path, key: str) -> str:
    """Read one variable the way the tutorial's postinstall does."""
    result = subprocess.run(
        ["sh", "-c", SED_HELPER, "sh", key],
        env={"HOME": str(environment_file.parent), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def copy_tinyapp(parent: Path) -> Path:
    """Copy the tiny fixture app into parent (its folder name is the default app name)."""
    target = parent / "tinyapp"
    shutil.copytree(FIXTURES / "tinyapp", target)
    (target / "postinstall").chmod(0o755)
    return target


@pytest.fixture
def tinyapp(tmp_path):
    """A fresh copy of the tiny fixture app for one test."""
    return copy_tinyapp(tmp_path)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A copy of the tiny fixture app shared by a module's tests."""
    return copy_tinyapp(tmp_path_factory.mktemp("src"))


class Hammer:
    """A client sending requests one after the other until stopped, recording every outcome."""

    def __init__(self, url: str, pause: float = 0.01) -> None:
        self.url = url
        self.pause = pause
        self.outcomes: list[int | str] = []
        self.failed_at: list[str] = []  # when each failed request started, and how long it took
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = time.time()
            try:
                self.outcomes.append(get(self.url, timeout=15)[0])
            except OSError as exc:  # refused, reset, timed out: a failed request
                self.outcomes.append(repr(exc))
            if self.outcomes[-1] != 200:
                when = time.strftime("%H:%M:%S", time.localtime(started))
                self.failed_at.append(f"{when} +{time.time() - started:.1f} s")
            time.sleep(self.pause)

    def __enter__(self) -> Hammer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def failures(self) -> list[int | str]:
        """Every outcome that was not a 200."""
        return [outcome for outcome in self.outcomes if outcome != 200]

    def explain(self, home: Path) -> str:
        """The failures with their times, and every access-log line of a request over 5 s."""
        return f"failed at {self.failed_at}; slow requests:\n" + "\n".join(slow_requests(home))


def slow_requests(home: Path, seconds: float = 5.0) -> list[str]:
    """Access-log lines (router and instances) of requests that took ``seconds`` or more."""
    found = []
    for log in home.rglob("access.log"):
        for line in log.read_text(errors="replace").splitlines():
            taken = re.search(r"request_time=([0-9.]+)", line)
            if taken and float(taken.group(1)) >= seconds:
                found.append(f"{log.relative_to(home)}: {line}")
    return found


class Browser:
    """A cookie-keeping client that sends Django's CSRF token back."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> str:
        """GET a page of the site."""
        with self.opener.open(self.base + path.lstrip("/"), timeout=20) as response:
            return response.read().decode()

    def post_form(self, path: str, fields: dict[str, str]) -> str:
        """GET the form at ``path``, then POST ``fields`` with its CSRF token."""
        page = self.get(path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **fields}).encode()
        request = urllib.request.Request(
            self.base + path.lstrip("/"),
            data=data,
            headers={"Referer": self.base + path.lstrip("/")},
        )
        with self.opener.open(request, timeout=20) as response:
            return response.read().decode()


def wait_for(predicate, timeout: float, what: str):
    """Poll ``predicate`` until it returns something true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.25)
