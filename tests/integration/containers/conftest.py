"""Fixtures for the container tests: the CLI with a private PLATFORM_SIM_HOME, this repository's
images built once per session, podman and the compose client with the project's settings."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from backing_services.podman import Podman
from platform_sim.containers.images import remove_images as remove_named
from platform_sim.hosts.processes import descendants
from tests.integration.pausing import celery_pool, signal_all
from tests.integration.platform_sim.conftest import REPO, run_cli
from tests.pace import within

APP = "composestory"
# A container test's fixtures may wait for images that other workers are building, one at a
# time (images.LAYERS_LOCK): the lock's own wait (45 min) bounds that, not the suite's 20
# minutes per test, which a slow machine's queue of builds exceeded (pace 2.9: 1,214 s).
IMAGE_WAIT_TIMEOUT = 60 * 60
HERE = Path(__file__).parent
# The session's images head the run's longest chain: the kube-play tests wait for them, then
# run one after the other, while the other environments push apps and run the unit tests (a
# cold build took 400 to 500 s under that load, 2.5 min alone). Their build goes first for the
# CPU (a niceness of -10: root only).
BUILD_NICENESS = -10


def pytest_collection_modifyitems(items):
    """The container tests' timeout covers a wait for the shared image builds."""
    for item in items:
        if HERE in item.path.parents and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(IMAGE_WAIT_TIMEOUT))


def shared_folder(tmp_path_factory) -> Path:
    """A folder this run's pytest-xdist workers share (each one's base temporary folder is in
    it); without xdist, the session's base temporary folder."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


class PushColdFigure:
    """The container benchmark's cold push, handed to the Kubernetes benchmark through a file of
    the run's shared folder: ``started`` while it runs, then its seconds, or ``failed``."""

    STARTED, FAILED = "started", "failed"

    def __init__(self, tmp_path_factory) -> None:
        self.path = shared_folder(tmp_path_factory) / "bench-containers-push-cold"

    def write(self, text: str) -> None:
        """Say ``text`` at once and whole (a reader never sees a half-written file)."""
        partial = self.path.with_suffix(".partial")
        partial.write_text(text)
        os.replace(partial, self.path)

    def read(self) -> str | None:
        """What was said last (None before the container benchmark started)."""
        try:
            return self.path.read_text()
        except FileNotFoundError:
            return None


def podman(*args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
    """``podman ARGS`` with the project's containers.conf (``check``: a failure names the
    command and shows what podman said)."""
    engine = Podman()
    result = subprocess.run(
        engine.command(*args),
        env=engine.env,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"podman {' '.join(args)} exited {result.returncode}:\n"
            f"{result.stderr[-3000:]}{result.stdout[-1000:]}"
        )
    return result


def listed_images(template: str) -> list[str]:
    """``podman images --format TEMPLATE``'s lines. Listed while another worker removes its
    images, podman can fail on one that vanished mid-listing (exit 125): listed again, up to
    five times (a read-only command)."""
    for _ in range(5):
        listed = podman("images", "--format", template, check=False)
        if listed.returncode == 0:
            return listed.stdout.split()
        time.sleep(0.5)
    raise AssertionError(f"podman images failed ({listed.returncode}): {listed.stderr.strip()}")


def main_pid(container: str) -> int:
    """The host pid of a running container's first process."""
    return int(podman("inspect", container, "--format", "{{.State.Pid}}").stdout)


def process_status(container: str) -> dict[str, dict[str, str]]:
    """{pid and command line: its /proc status fields} of every process of a running container,
    read from the host (rootful Podman: the same uids as inside)."""
    pid = main_pid(container)
    found: dict[str, dict[str, str]] = {}
    for process in [pid, *descendants(pid)]:
        try:
            status = Path(f"/proc/{process}/status").read_text()
            command = Path(f"/proc/{process}/cmdline").read_bytes().replace(b"\0", b" ")
        except (FileNotFoundError, ProcessLookupError):  # ended meanwhile
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        found[f"{process} {command.decode(errors='replace')}"] = {
            key: value.strip() for key, value in fields.items()
        }
    return found


def process_uids(container: str) -> dict[str, set[int]]:
    """{command line: its real, effective, saved and file uids} of every process of a running
    container."""
    return {
        command: {int(uid) for uid in fields["Uid"].split()}
        for command, fields in process_status(container).items()
    }


def runs(owners: dict[str, set[int]], *programs: str) -> bool:
    """Whether each of ``programs`` is in some command line of ``owners``."""
    return all(any(program in command for command in owners) for program in programs)


def compose_client() -> str:
    """The compose client installed with the project (podman-compose)."""
    found = shutil.which("podman-compose", path=str(Path(sys.executable).parent))
    found = found or shutil.which("podman-compose")
    if found is None:  # never a skip: the project's install must provide it
        pytest.fail("podman-compose is not installed: run bin/bootstrap")
    return found


def compose(folder: Path, *args: str, check: bool = True, timeout: float = 600):
    """``podman-compose ARGS`` in ``folder``, with the project's containers.conf."""
    result = subprocess.run(
        [compose_client(), *args],
        cwd=folder,
        env=Podman().env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        pytest.fail(f"podman-compose {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="session")
def sim_home(tmp_path_factory):
    """A PLATFORM_SIM_HOME holding the app's variables (never pushed: nothing runs there)."""
    try:
        Podman().check()
    except Exception as exc:  # noqa: BLE001 - any reason is a failure, never a skip
        pytest.fail(f"Podman cannot run containers here: {exc}")
    return tmp_path_factory.mktemp("containers_sim_home")


def build_images(
    sim_home: Path, app: str, folder: Path = REPO, ahead: bool = False
) -> tuple[list[str], str]:
    """Build ``folder``'s images as ``app`` (its secret key set, a short lazy job): the images'
    names and the build's messages (one build at a time: ``images.LAYERS_LOCK``); ``ahead``:
    with the CPU before the run's other processes (podman and the build's containers inherit
    the priority)."""
    run_cli(
        sim_home,
        "-A",
        app,
        "env",
        "set",
        f"DJANGO_SECRET_KEY={secrets.token_urlsafe(40)}",
        "SOUP_LAZY_JOB_SECONDS=3",
        check=True,
    )
    result = run_cli(
        sim_home, "-A", app, "image", "build", str(folder), check=True, timeout=3000,
        wrapper=("nice", "-n", str(BUILD_NICENESS)) if ahead and os.geteuid() == 0 else (),
    )  # fmt: skip
    return result.stdout.split(), result.stderr


def remove_images(app: str) -> None:
    """Every image built as ``app``."""
    listed = listed_images("{{.Repository}}:{{.Tag}}")
    remove_named(name for name in listed if name.startswith(f"localhost/{app}-"))


@pytest.fixture(scope="session")
def built(sim_home):
    """This repository's images, built once on the worker (base image reused); removed when
    every worker is done with them (``pytest_sessionfinish``)."""
    return build_images(sim_home, APP, ahead=True)


def pytest_sessionfinish(session):
    """The app's images, at the end of the whole run: in the process that ran the tests, or
    in pytest-xdist's controller once every worker has ended (one worker's end would take them
    from the others)."""
    if not hasattr(session.config, "workerinput"):
        remove_images(APP)


def project_label(app: str) -> str:
    """The podman filter finding a Compose project's containers."""
    return f"label=io.podman.compose.project={app}"


def project_volumes(app: str = APP) -> list[str]:
    """The volumes of Compose project ``app`` (named ``<project>_<volume>``)."""
    names = podman("volume", "ls", "--format", "{{.Name}}").stdout.split()
    return [name for name in names if name.startswith(f"{app}_")]


def project_containers(app: str = APP) -> list[str]:
    """The containers of Compose project ``app``, running or not."""
    return podman("ps", "-a", "-q", "--filter", project_label(app)).stdout.split()


def remove_leftovers(app: str = APP) -> None:
    """What an interrupted run left of Compose project ``app``: containers, pod, volumes,
    network."""
    found = project_containers(app)
    if found:
        podman("rm", "--force", "--volumes", *found)
    podman("pod", "rm", "--force", f"pod_{app}", check=False)
    for volume in project_volumes(app):
        podman("volume", "rm", "--force", volume, check=False)
    podman("network", "rm", "--force", f"{app}_default", check=False)


def clean_environment() -> dict[str, str]:
    """Our environment without Django settings (the CLI runs as a user would run it)."""
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


class StartWatch:
    """Worker containers' log files, read from before a job is queued (``workers``: a name of
    ours → the container). ``pause`` waits for the job's start line and at once pauses
    (SIGSTOP) the Celery pool of the container running it, so that the job is mid-run, however
    slow the machine is, until ``resume``."""

    def __init__(self, workers: dict[str, str]) -> None:
        inspect = "{{.HostConfig.LogConfig.Path}}"
        self.files = {
            name: Path(podman("inspect", container, "--format", inspect).stdout.strip())
            for name, container in workers.items()
        }
        self.offsets = {name: path.stat().st_size for name, path in self.files.items()}
        # the pools are looked up once a job starts: a container just (re)started may not have
        # forked its pool yet; /proc alone answers then, at once, with no podman call
        self.roots = {name: main_pid(container) for name, container in workers.items()}
        self.paused: list[int] = []

    def since(self, name: str) -> str:
        """What that container logged since the watch began."""
        with open(self.files[name], "rb") as handle:
            handle.seek(self.offsets[name])
            return handle.read().decode(errors="replace")

    def pause(self, job: str, timeout: float = 60) -> str:
        """Wait for ``job`` to start; pause the pool running it; return that worker's name."""
        deadline = time.monotonic() + within(timeout)
        while True:
            for name in self.files:
                if f"Starting the lazy job: {job}" in self.since(name):
                    self.paused = celery_pool(self.roots[name])
                    signal_all(self.paused, signal.SIGSTOP)
                    return name
            assert time.monotonic() < deadline, f"{job} did not start within {timeout} s"
            time.sleep(0.05)

    def resume(self) -> None:
        """Let the paused pool run again (processes killed meanwhile are skipped)."""
        signal_all(self.paused, signal.SIGCONT)


def in_background(call) -> Future:  # noqa: ANN001
    """``call()`` running in a thread of its own: its future."""
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(call)
    finally:
        pool.shutdown(wait=False)
