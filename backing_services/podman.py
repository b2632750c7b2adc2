"""Podman, the project's one container engine: run with our containers.conf, checked, base image.

Every podman command of the project goes through ``Podman``: it sets ``CONTAINERS_CONF`` to the
file kept beside this module (runc, no default ulimits), so nothing machine-wide changes.
"""

from __future__ import annotations

import collections
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from .buildlock import building
from .errors import EngineError, EngineMissing, ImageBuildError

CONF = Path(__file__).resolve().with_name("containers.conf")
BASE_IMAGE = "localhost/minestrone-base:bookworm"
SUITE = "bookworm"
IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
LABEL = "io.minestrone.owner"  # on every container, volume, network and image we create
INSTALL_HINT = "install it with bin/bootstrap (apt-get install podman runc debootstrap)"
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
TAIL_LINES = 25
BUILD_TIMEOUT = 30 * 60
STOP_GRACE = 20  # seconds a stopped child gets to clean up (debootstrap unmounts) before SIGKILL


def _nothing(line: str) -> None:
    """Discard a line of output."""


class Podman:
    """Runs ``podman`` with the project's containers.conf; raises EngineError family errors."""

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        which: Callable[..., str | None] = shutil.which,
    ) -> None:
        base = dict(os.environ if env is None else env)
        self.env = {**base, "CONTAINERS_CONF": str(CONF)}
        self.which = which
        self._checked = False

    def find(self, program: str) -> str | None:
        """Where ``program`` is, looking in the sbin folders too (runc, debootstrap live there)."""
        return self.which(program, path=f"{self.env.get('PATH', '')}:{SYSTEM_PATH}")

    def require(self, *programs: str) -> None:
        """Raise EngineMissing naming the first of ``programs`` that is not installed."""
        for program in programs:
            if self.find(program) is None:
                raise EngineMissing(f"{program} is not installed: {INSTALL_HINT}")

    def check(self) -> None:
        """Podman and runc are installed and Podman can run containers here (else EngineMissing)."""
        if self._checked:
            return
        self.require("podman", "runc")
        result = self.run("info", "--format", "{{.Host.OCIRuntime.Name}}", check=False)
        if result.returncode != 0:
            first = (result.stderr or result.stdout or "").strip().splitlines()[:1]
            raise EngineMissing(
                f"podman cannot run containers here ({first[0] if first else 'no output'}): "
                "run as root, or see bin/bootstrap"
            )
        self._checked = True

    def command(self, *args: str) -> list[str]:
        """The argv of ``podman ARGS``."""
        return [self.find("podman") or "podman", *args]

    def run(
        self, *args: str, check: bool = True, timeout: float = 300, stdin: bytes | None = None
    ) -> subprocess.CompletedProcess:
        """Run ``podman ARGS`` to completion, output captured; EngineError when it fails."""
        try:
            result = subprocess.run(
                self.command(*args),
                env=self.env,
                input=stdin,
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise EngineError(f"podman {args[0]} failed: {exc}") from exc
        result.stdout = result.stdout.decode("utf-8", "replace")
        result.stderr = result.stderr.decode("utf-8", "replace")
        if check and result.returncode != 0:
            message = (result.stderr.strip() or result.stdout.strip()).splitlines()[-1:] or [""]
            raise EngineError(f"podman {' '.join(args[:2])} failed: {message[0]}")
        return result

    def stream(
        self,
        argv: Sequence[str],
        *,
        image: str,
        step: str,
        say: Callable[[str], None] = _nothing,
        timeout: float = BUILD_TIMEOUT,
        stdin: int | None = None,
    ) -> None:
        """Run ``argv`` (a full command line), each output line to ``say``; ImageBuildError."""
        tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        try:
            child = subprocess.Popen(
                list(argv),
                env=self.env,
                stdin=subprocess.DEVNULL if stdin is None else stdin,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
        except OSError as exc:
            raise ImageBuildError(image, step, 127, str(exc)) from exc
        try:
            for raw in child.stdout:
                line = raw.decode("utf-8", "replace").rstrip()
                tail.append(line)
                say(line)
            status = child.wait(timeout)
        except subprocess.TimeoutExpired:
            stop(child)
            raise ImageBuildError(image, step, None, "\n".join(tail)) from None
        except BaseException:
            stop(child)
            raise
        if status != 0:
            raise ImageBuildError(image, step, status, "\n".join(tail))

    def image_exists(self, name: str) -> bool:
        """Whether Podman's storage holds an image of that name."""
        return self.run("image", "exists", name, check=False).returncode == 0

    def build(
        self,
        context: Path,
        tag: str,
        *,
        step: str,
        say: Callable[[str], None] = _nothing,
        volumes: Sequence[str] = (),
        labels: Mapping[str, str] | None = None,
        no_cache: bool = False,
    ) -> None:
        """``podman build`` of ``context`` (its Containerfile) into ``tag``, never half-tagged.

        The build runs with the host's network (apt and pip reach their registries) and the
        Docker image format (it keeps HEALTHCHECK). The tag is only set once every step passed.
        """
        argv = self.command(
            "build", "--network", "host", "--format", "docker", "--layers", "--iidfile",
            str(context / ".iid"), "--label", f"{LABEL}=minestrone",
        )
        for key, value in (labels or {}).items():
            argv += ["--label", f"{key}={value}"]
        for volume in volumes:
            argv += ["--volume", volume]
        if no_cache:
            argv.append("--no-cache")
        self.stream([*argv, str(context)], image=tag, step=step, say=say)
        image_id = (context / ".iid").read_text().strip()
        self.run("tag", image_id, tag)


def stop(child: subprocess.Popen, grace: float = STOP_GRACE) -> None:
    """SIGTERM, so that the child's cleanup runs; SIGKILL if it is still there after ``grace``."""
    child.terminate()
    try:
        child.wait(grace)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def host_ca_bundle(env: Mapping[str, str] | None = None) -> Path | None:
    """The CA bundle this machine trusts (mounted into builds so pip can reach PyPI)."""
    env = os.environ if env is None else env
    for candidate in (env.get("PIP_CERT"), env.get("SSL_CERT_FILE"),
                      "/etc/ssl/certs/ca-certificates.crt"):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def ensure_base_image(
    podman: Podman, base: str | None = None, say: Callable[[str], None] = _nothing
) -> str:
    """The image every recipe starts FROM: ``base`` if given (it must exist), else ours.

    Ours is Debian bookworm from Debian's packages (debootstrap minbase, then podman import with
    a PATH), built once and reused by name.
    """
    podman.check()
    if base:
        if not podman.image_exists(base):
            raise EngineError(
                f"--base {base}: no such image in Podman's storage "
                f"(podman pull {base}, or leave --base out to build a Debian one)"
            )
        return base
    if podman.image_exists(BASE_IMAGE):
        return BASE_IMAGE
    podman.require("debootstrap", "unshare")  # refused at once, not after another's build
    with building(BASE_IMAGE):  # test processes side by side: one builds, the others wait
        if not podman.image_exists(BASE_IMAGE):
            _build_base_image(podman, say)
    return BASE_IMAGE


def _build_base_image(podman: Podman, say: Callable[[str], None]) -> None:
    say(f"Building the base image {BASE_IMAGE} (debootstrap {SUITE}, about a minute, once)")
    with tempfile.TemporaryDirectory(prefix="minestrone-rootfs-", dir="/var/tmp") as root:
        # in a mount namespace of its own: the proc/sys mounts it makes go with it, even when
        # it is killed before its own cleanup unmounts them
        podman.stream(
            [
                podman.find("unshare") or "unshare", "--mount", "--propagation", "private",
                podman.find("debootstrap") or "debootstrap", "--variant=minbase", SUITE, root,
            ],
            image=BASE_IMAGE,
            step="debootstrap",
            say=say,
        )
        tar = subprocess.Popen(["tar", "-C", root, "-c", "."], stdout=subprocess.PIPE)
        try:
            podman.stream(
                podman.command(
                    "import", "--change", f"ENV PATH={IMAGE_PATH}",
                    "--change", f"LABEL {LABEL}=minestrone", "-", BASE_IMAGE,
                ),
                image=BASE_IMAGE,
                step="podman import",
                stdin=tar.stdout,
            )
        finally:
            tar.stdout.close()
            tar.wait()
