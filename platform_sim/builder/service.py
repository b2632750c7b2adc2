"""Build a code service: prebuild, a virtualenv with its requirements (reused when unchanged),
postbuild — each step streamed with the service's prefix."""

from __future__ import annotations

import collections
import hashlib
import json
import os
import shutil
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from platform_sim.appfile.buildfile import Service
from platform_sim.builder.steps import run_step
from platform_sim.errors import PlatformError
from platform_sim.output import Printer

BUILD_TIMEOUT = 15 * 60
WSGI_SERVER = "gunicorn>=22"
COMPLETE_MARKER = ".platform_sim-complete"
# Modules are compiled when first imported (by postinstall), not all of them at install; no
# question to the index about pip's own version.
PIP_OPTIONS = ("--no-compile", "--disable-pip-version-check")
ENVS = "envs"  # virtualenvs, shared by the services whose requirements are the same
# Variables of the caller that would leak another Python environment into the build.
LEAKY_VARIABLES = (
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "PYTHONUSERBASE",
    "DJANGO_SETTINGS_MODULE",
    "PIP_REQUIRE_VIRTUALENV",
    "PIP_USER",
)


@dataclass(frozen=True)
class BuildResult:
    """Where a service's build put its virtualenv and the code to deploy, and what it cost."""

    service: str
    env: Path
    code: Path
    key: str
    reused: bool
    timings: dict[str, float] = field(default_factory=dict)


def approot(code: Path, service: Service) -> Path:
    """The service's approot inside an uploaded tree (a PlatformError if it is missing)."""
    folder = (code / service.approot).resolve()
    if not folder.is_dir() or not folder.is_relative_to(code.resolve()):
        raise PlatformError(
            f'[{service.name}] approot "{service.approot}" is not a folder of the pushed tree'
        )
    return folder


def build_key(service: Service, root: Path, python: str = sys.version) -> str:
    """What the virtualenv depends on: Python, the requirements file and ``requirements:``.

    Services with the same inputs share one virtualenv, except those with build hooks (which
    may change their environment): their key includes the service's name.
    """
    requirements = root / "requirements.txt"
    inputs = {
        "python": python,
        "service": service.name if service.prebuild or service.postbuild else None,
        "requirements.txt": requirements.read_text("utf-8") if requirements.is_file() else None,
        "requirements": list(service.requirements),
    }
    digest = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()
    return digest[:16]


def build_environment(base: Mapping[str, str], env_dir: Path, extra: Mapping[str, str]) -> dict:
    """The caller's environment (pip's settings and caches) minus other Pythons, env first."""
    env = {key: value for key, value in base.items() if key not in LEAKY_VARIABLES}
    env.update(extra)
    env["PATH"] = f"{env_dir}/bin:{base.get('PATH', '/usr/bin:/bin')}"
    env["VIRTUAL_ENV"] = str(env_dir)
    env["PYTHONUNBUFFERED"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    env["PIP_PROGRESS_BAR"] = "off"
    return env


def virtualenv_command(target: Path, python: str = sys.executable) -> list[str]:
    """Create a virtualenv: ``virtualenv`` (fast, seeds pip from its cache), else ``venv``."""
    try:
        import virtualenv  # noqa: F401
    except ImportError:
        return [python, "-m", "venv", str(target)]
    return [python, "-m", "virtualenv", "--quiet", "--no-periodic-update", str(target)]


class Builder:
    """Builds the code services of one application under its ``builds/`` folder."""

    def __init__(
        self,
        builds: Path,
        printer: Printer,
        *,
        base_env: Mapping[str, str] | None = None,
        run: Callable[..., float] = run_step,
    ) -> None:
        self.builds = builds
        self.printer = printer
        self.base_env = dict(os.environ if base_env is None else base_env)
        self.run = run
        self._locks: dict[str, threading.Lock] = collections.defaultdict(threading.Lock)
        self._built: dict[str, str] = {}

    def build(
        self,
        service: Service,
        code: Path,
        revision: int,
        *,
        clean: bool = False,
        variables: Mapping[str, str] | None = None,
    ) -> BuildResult:
        """Build ``service`` from the uploaded tree ``code`` of ``revision``."""
        name = service.name
        root = approot(code, service)
        key = build_key(service, root)
        folder = self.builds / name
        folder.mkdir(parents=True, exist_ok=True)
        envs = self.builds / ENVS
        envs.mkdir(exist_ok=True)
        log = folder / f"build-{revision}.log"
        timings: dict[str, float] = {}
        self._system_packages(service)
        deploy_code, root = self._hook_tree(service, code, root, folder, revision)
        with self._locks[key]:
            previous = None if clean and key not in self._built else reusable_env(envs, key)
            env_dir = previous or envs / f"env-{key}-{revision}"
            env = build_environment(self.base_env, env_dir, variables or {})
            if service.prebuild:
                timings["prebuild"] = self._hook(service, "prebuild", root, env, log)
            reused = previous is not None
            if reused:
                origin = self._built.get(key)
                why = f"built for {origin} in this push" if origin else "requirements unchanged"
                self.printer.line(name, f"Reusing the virtualenv {env_dir.name} ({why})")
            else:
                timings.update(self._virtualenv(service, root, env_dir, env, log))
                self._built[key] = name
        if service.postbuild:
            timings["postbuild"] = self._hook(service, "postbuild", root, env, log)
        self.printer.line(name, "Build completed successfully")
        return BuildResult(name, env_dir, deploy_code, key, reused, timings)

    def _system_packages(self, service: Service) -> None:
        missing = [package for package in service.systempackages if not _installed(package)]
        if missing:
            self.printer.line(
                service.name,
                "WARNING: systempackages are not installed by "
                f"platform_sim (one shared machine): install {' '.join(missing)} "
                "with apt-get yourself",
            )

    def _hook_tree(
        self, service: Service, code: Path, root: Path, folder: Path, revision: int
    ) -> tuple[Path, Path]:
        """Hooks may change the tree: give them the service's own copy of the revision."""
        if not (service.prebuild or service.postbuild):
            return code, root
        own = folder / f"code-{revision}"
        if own.exists():
            shutil.rmtree(own)
        shutil.copytree(code, own, symlinks=True)
        return own, approot(own, service)

    def _hook(self, service: Service, step: str, root: Path, env: Mapping, log: Path) -> float:
        command = getattr(service, step)
        self.printer.step(f"Running {step}: {command}", service.name)
        return self.run(
            ["/bin/sh", "-c", command],
            prefix=service.name,
            step=step,
            printer=self.printer,
            env=env,
            cwd=root,
            timeout=BUILD_TIMEOUT,
            log=log,
        )

    def _virtualenv(
        self, service: Service, root: Path, env_dir: Path, env: Mapping, log: Path
    ) -> dict[str, float]:
        name = service.name
        if env_dir.exists():
            shutil.rmtree(env_dir)
        pip = [str(env_dir / "bin" / "python"), "-m", "pip", "install", *PIP_OPTIONS]
        steps = [("virtualenv", virtualenv_command(env_dir))]
        if (root / "requirements.txt").is_file():
            label = f"pip install -r requirements.txt {WSGI_SERVER} (the WSGI server)"
            steps.append((label, [*pip, "-r", "requirements.txt", WSGI_SERVER]))
        else:
            steps.append((f"pip install {WSGI_SERVER} (the WSGI server)", [*pip, WSGI_SERVER]))
        if service.requirements:
            steps.append(("pip install (requirements:)", [*pip, *service.requirements]))
        timings = {}
        try:
            for number, (step, argv) in enumerate(steps, 1):
                self.printer.step(f"Build step {number}/{len(steps)}: {step}", name)
                timings[step] = self.run(
                    argv,
                    prefix=name,
                    step=step,
                    printer=self.printer,
                    env=env,
                    cwd=root,
                    timeout=BUILD_TIMEOUT,
                    log=log,
                )
        except BaseException:
            shutil.rmtree(env_dir, ignore_errors=True)
            raise
        (env_dir / COMPLETE_MARKER).write_text("")
        return timings


def reusable_env(folder: Path, key: str) -> Path | None:
    """The newest complete virtualenv built for ``key`` (None when there is none)."""
    candidates = [path for path in folder.glob(f"env-{key}-*") if (path / COMPLETE_MARKER).exists()]
    if not candidates:
        return None
    return max(candidates, key=lambda path: int(path.name.rsplit("-", 1)[1]))


def _installed(package: str) -> bool:
    return Path(f"/var/lib/dpkg/info/{package}.list").exists() or any(
        Path("/var/lib/dpkg/info").glob(f"{package}:*.list")
    )
