"""The Docker-compatible API for testcontainers: a real Docker engine, else Podman's, ours.

When no Docker engine answers and Podman is installed, ``podman system service`` is started
on a socket in a folder of our own (it dies with the process that started it) and
``DOCKER_HOST`` points testcontainers at it, with Ryuk off (its image is on a registry) and the
``docker_host`` connection mode (Podman 4.3's API lacks a field testcontainers otherwise reads).
Everything the tests start carries our labels; what a killed run left is removed by label.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import MutableMapping
from pathlib import Path

from .errors import EngineError
from .podman import LABEL, Podman

SESSION_LABEL = f"{LABEL}.session"  # the pid of the process that started the container
OWNER = "testcontainers"
START_TIMEOUT = 30.0
PR_SET_PDEATHSIG = 1


def test_labels() -> dict[str, str]:
    """The labels of every container the tests start."""
    return {LABEL: OWNER, SESSION_LABEL: str(os.getpid())}


def docker_settings(url: str) -> dict[str, str]:
    """What testcontainers needs to use Podman's API at ``url``."""
    return {
        "DOCKER_HOST": url,
        "TESTCONTAINERS_RYUK_DISABLED": "true",
        "TESTCONTAINERS_CONNECTION_MODE": "docker_host",
    }


def _die_with_parent() -> None:
    """In the child: receive SIGTERM when the process that started us dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _pings(path: Path) -> bool:
    """Whether the API on the socket answers ``GET /_ping`` with OK."""
    try:
        with socket.socket(socket.AF_UNIX) as client:
            client.settimeout(2)
            client.connect(str(path))
            client.sendall(b"GET /_ping HTTP/1.0\r\nHost: d\r\n\r\n")
            return b"OK" in client.recv(4096)
    except OSError:
        return False


class PodmanSocket:
    """``podman system service`` on a socket of our own, for as long as we run."""

    def __init__(self, podman: Podman | None = None) -> None:
        self.podman = podman or Podman()
        self.folder: Path | None = None
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """``unix://…`` of the socket."""
        return f"unix://{self.folder / 'podman.sock'}"

    def start(self) -> str:
        """Start the service and wait until it answers; its URL."""
        self.podman.check()
        self.folder = Path(tempfile.mkdtemp(prefix="minestrone-podman-"))
        path = self.folder / "podman.sock"
        log = open(self.folder / "service.log", "wb")  # noqa: SIM115 - handed to the child
        with log:
            self.process = subprocess.Popen(
                self.podman.command("system", "service", "--time=0", f"unix://{path}"),
                env=self.podman.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - no threads run Python in the child
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not _pings(path):
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = (self.folder / "service.log").read_text(errors="replace")[-2000:]
                self.stop()
                raise EngineError(f"podman system service did not answer: {tail.strip()}")
            time.sleep(0.1)
        return self.url

    def stop(self) -> None:
        """Stop the service and remove its folder (containers are removed by label first)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


def _alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def remove_labelled(podman: Podman, *, only_dead: bool = False, pid: int | None = None) -> int:
    """Remove the tests' containers (with their anonymous volumes); how many.

    ``pid``: only that session's; ``only_dead``: only those whose session has ended (what an
    interrupted run left behind).
    """
    listing = podman.run(
        "ps", "-a", "--filter", f"label={LABEL}={OWNER}",
        "--format", f'{{{{.ID}}}} {{{{index .Labels "{SESSION_LABEL}"}}}}', check=False,
    ).stdout.split("\n")
    doomed = []
    for line in filter(None, (line.strip() for line in listing)):
        container, _, session = line.partition(" ")
        if pid is not None and session != str(pid):
            continue
        if only_dead and _alive(session):
            continue
        doomed.append(container)
    if doomed:
        podman.run("rm", "--force", "--volumes", *doomed, check=False, timeout=120)
    return len(doomed)


_lock = threading.Lock()
_service: PodmanSocket | None = None


def podman_engine(environ: MutableMapping[str, str] | None = None) -> str:
    """Start (once per process) our Podman API and point testcontainers at it; its URL."""
    global _service
    environ = os.environ if environ is None else environ
    with _lock:
        if _service is None:
            service = PodmanSocket()
            service.start()
            remove_labelled(service.podman, only_dead=True)
            _service = service
            atexit.register(shutdown)
        environ.update(docker_settings(_service.url))
        return _service.url


def using_our_podman(environ: MutableMapping[str, str] | None = None) -> bool:
    """Whether testcontainers talks to the Podman API this process started."""
    environ = os.environ if environ is None else environ
    return _service is not None and environ.get("DOCKER_HOST") == _service.url


def shutdown() -> None:
    """Remove this process's containers, then stop the API service."""
    global _service
    with _lock:
        service, _service = _service, None
    if service is not None:
        remove_labelled(service.podman, pid=os.getpid())
        service.stop()
