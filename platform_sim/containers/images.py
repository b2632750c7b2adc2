"""``image build``: one OCI image per service of the build file, built with Podman.

Code services get the revision's code, a virtualenv of their requirements (a layer of its own,
reused while the requirements do not change), Supervisor, nginx when the app serves the web,
and the platform's entrypoint (``container_entry``); an app's code services share their system
layer (``system_packages``). Data services get the backing_services image of
their kind (``Kind.image``), tagged with the app's names. ``build_images`` is the importable API.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import shlex
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from backing_services.buildlock import building
from backing_services.errors import EngineError, EngineMissing, ImageBuildError
from backing_services.images import data_image
from backing_services.podman import LABEL, Podman, ensure_base_image, host_ca_bundle
from machine import executor
from platform_sim import isolated
from platform_sim.appfile.buildfile import BuildFile, Service, check_supported, load
from platform_sim.builder.service import WSGI_SERVER, approot
from platform_sim.builder.upload import copy_tree, ignore_patterns
from platform_sim.containers.facts import (
    CODE_UID,
    CODE_USER,
    PLATFORM_INSIDE,
    SYSTEM_PYTHON,
    VENV_INSIDE,
    WEB_PORT,
)
from platform_sim.errors import HostError, PlatformError, StepFailed, UsageError
from platform_sim.kinds.registry import KINDS
from platform_sim.output import Printer
from platform_sim.render.templates import render

FILES = Path(__file__).resolve().with_name("image_files")
PACKAGE = Path(__file__).resolve().parents[1]
# what the entrypoint imports: the platform and `machine` (the process executor, owner-only files)
PLATFORM_PACKAGES = (PACKAGE, Path(executor.__file__).resolve().parent)
CODE_TYPES = ("python", "python-worker")
CONTAINERIZABLE = (*CODE_TYPES, *KINDS)
CA_INSIDE = "/etc/minestrone-build-ca.pem"  # the host's CA bundle, mounted during builds only
SERVICE_FILE = "service.json"
# One code build or image removal at a time for each user of this machine. Podman removes an
# image's untagged parent layers with it, so a removal beside a build could take a cached layer
# the build is about to reuse (the build then fails, status 125); and a build started beside
# another waits, then reuses its system and virtualenv layers instead of building them too.
LAYERS_LOCK = "minestrone-code-layers"


@dataclass(frozen=True)
class AppImages:
    """The images of one revision of an app: service name → image name."""

    app: str
    revision: str
    names: dict[str, str]


def image_name(app: str, service: str, revision: str) -> str:
    """``localhost/<app>-<service>:<revision>``."""
    return f"localhost/{app}-{service}:{revision}"


def check_containerizable(buildfile: BuildFile) -> None:
    """Refuse, by name and before building anything, a service type we cannot containerize."""
    check_supported(buildfile, CONTAINERIZABLE, "image build cannot containerize (it builds {})")


def tree_revision(tree: Path) -> str:
    """A digest of an uploaded tree (paths, modes, contents, links): the images' tag."""
    digest = hashlib.sha256()
    for folder, dirnames, filenames in os.walk(tree):
        dirnames.sort()
        for name in sorted(filenames + [d for d in dirnames if (Path(folder) / d).is_symlink()]):
            path = Path(folder) / name
            relative = path.relative_to(tree).as_posix()
            if path.is_symlink():
                digest.update(f"L\0{relative}\0{os.readlink(path)}\0".encode())
            else:
                digest.update(f"F\0{relative}\0{path.stat().st_mode & 0o777:o}\0".encode())
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:12]


@contextlib.contextmanager
def uploaded(
    folder: Path, printer: Printer, exclude: Path | None = None
) -> Iterator[tuple[Path, str]]:
    """The tree a push would upload (in a scratch folder) and its revision digest.

    ``exclude`` (an export's ``-o`` folder) is left out when it lies inside ``folder``.
    """
    patterns = ignore_patterns(Path(folder))
    if exclude is not None:
        inside = os.path.relpath(Path(exclude).resolve(), Path(folder).resolve())
        if inside == ".":
            raise UsageError(
                f"-o {exclude}: the output would be uploaded with the app's code; "
                "choose a folder outside PATH"
            )
        if not inside.startswith(".."):
            patterns.append("/" + glob.escape(Path(inside).as_posix()))
    with tempfile.TemporaryDirectory(prefix="platform_sim-image-") as scratch:
        tree = Path(scratch) / "tree"
        copy_tree(Path(folder), tree, patterns, warn=lambda text: _warn(printer, text))
        yield tree, tree_revision(tree)


def _warn(printer: Printer, text: str) -> None:
    """One warning line of the upload (as a push prints it)."""
    printer.line("upload", f"warning: {text}")


def service_description(app: str, service: Service) -> dict:
    """What the entrypoint needs to know of its service (baked into the image)."""
    return {
        "app": app,
        "service": service.name,
        "type": service.type,
        "processes": dict(service.processes),
        "wsgi_processes": service.wsgi_processes,
        "postinstall": service.postinstall,
        "approot": service.approot,
        "web_port": WEB_PORT if service.is_web else None,
    }


def entrypoint() -> list[str]:
    """The code image's entrypoint: the platform's own copy, isolated from the app's files."""
    launcher = f"{PLATFORM_INSIDE}/platform_sim/isolated.py"
    return isolated.command(SYSTEM_PYTHON, "platform_sim.containers.entry", launcher=launcher)


def system_packages(buildfile: BuildFile) -> list[str]:
    """The Debian packages of every code service of the app, once each: nginx when one serves
    the web, then each service's ``systempackages`` in order. One list for all, so that their
    images share the system layer and, when their requirements agree, the virtualenv's: a
    second code service costs no apt nor pip run."""
    code = [service for service in buildfile.services.values() if service.is_code]
    web = ["nginx"] if any(service.is_web for service in code) else []
    listed = [name for service in code for name in service.systempackages]
    return list(dict.fromkeys(web + listed))


def render_containerfile(
    app: str, service: Service, base: str, pip_env: str, packages: list[str]
) -> str:
    """The Containerfile of a code service (``packages``: the app's ``system_packages``)."""
    current = os.path.normpath(os.path.join("code", service.approot))
    return render(
        (FILES / "Containerfile").read_text(),
        {
            "app": app,
            "service": service.name,
            "type": service.type,
            "base": base,
            "packages": "".join(f" {shlex.quote(name)}" for name in packages),
            "pip_env": pip_env,
            "requirements": shlex.join([WSGI_SERVER, *service.requirements]),
            "current": current,
            "expose": f"EXPOSE {WEB_PORT}\n" if service.is_web else "",
            "user": CODE_USER,
            "uid": CODE_UID,
            "platform": PLATFORM_INSIDE,
            "venv": VENV_INSIDE,
            "entrypoint": json.dumps(entrypoint()),
        },
    )


def write_code_context(
    context: Path,
    app: str,
    service: Service,
    tree: Path,
    base: str,
    pip_env: str,
    packages: list[str],
) -> None:
    """The build context of a code service: Containerfile, requirements, platform, code."""
    root = approot(tree, service)
    requirements = root / "requirements.txt"
    (context / "requirements.txt").write_text(
        requirements.read_text("utf-8") if requirements.is_file() else ""
    )
    for package in PLATFORM_PACKAGES:
        shutil.copytree(
            package, context / "platform" / package.name,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "README.md"),
        )
    (context / "platform" / SERVICE_FILE).write_text(
        json.dumps(service_description(app, service), indent=2, sort_keys=True) + "\n"
    )
    shutil.copytree(tree, context / "code", symlinks=True)
    (context / "Containerfile").write_text(
        render_containerfile(app, service, base, pip_env, packages)
    )


@contextlib.contextmanager
def engine_errors(service: str) -> Iterator[None]:
    """Turn the engine's errors into platform_sim's (exit 7 missing engine, 5 failed step)."""
    try:
        yield
    except EngineMissing as exc:
        raise HostError(str(exc)) from exc
    except ImageBuildError as exc:
        raise StepFailed(service, exc.step, exc.status, exc.tail) from exc
    except EngineError as exc:
        raise PlatformError(f"[{service}] {exc}") from exc


def build_images(
    folder: Path,
    app: str,
    *,
    base: str | None = None,
    printer: Printer | None = None,
    podman: Podman | None = None,
    no_cache: bool = False,
) -> AppImages:
    """Build every service's image of the app in ``folder``; return their names.

    ``no_cache`` rebuilds every layer above the base image (benchmarks of a cold build), each
    code service's too: Podman keeps no cache of a build made without one, so the figure is a
    little above a first build's, where the second code service takes the first's layers.
    """
    printer = printer or Printer()
    buildfile = load(folder)
    check_containerizable(buildfile)
    podman = podman or Podman()
    with engine_errors("base"):
        podman.check()
        base = ensure_base_image(podman, base, lambda line: printer.line("base", line))
    packages = system_packages(buildfile)
    with (
        uploaded(folder, printer) as (tree, revision),
        engine_errors("images"),
        building(LAYERS_LOCK),
    ):
        scratch = tree.parent
        names = {}
        for service in buildfile.services.values():
            name = image_name(app, service.name, revision)
            printer.step(f"Building {name}", service.name)
            with engine_errors(service.name):
                if service.is_code:
                    context = scratch / f"context-{service.name}"
                    _build_code(
                        podman, context, app, service, tree, base, packages, name, printer,
                        no_cache,
                    )
                else:
                    source = data_image(
                        KINDS[service.type].image, podman, base=base,
                        say=lambda line, s=service.name: printer.line(s, line),
                        no_cache=no_cache,
                    )
                    podman.run("tag", source, name)
            names[service.name] = name
    return AppImages(app, revision, names)


def remove_images(names: Iterable[str], podman: Podman | None = None) -> None:
    """Remove these images (one already gone is skipped), never beside a build (``LAYERS_LOCK``)."""
    podman = podman or Podman()
    with engine_errors("images"), building(LAYERS_LOCK):
        for name in dict.fromkeys(names):
            podman.run("rmi", name, check=False)


def _build_code(
    podman: Podman,
    context: Path,
    app: str,
    service: Service,
    tree: Path,
    base: str,
    packages: list[str],
    name: str,
    printer: Printer,
    no_cache: bool = False,
) -> None:
    context.mkdir()
    bundle = host_ca_bundle(podman.env)
    pip_env = f"PIP_CERT={CA_INSIDE} " if bundle else ""
    write_code_context(context, app, service, tree, base, pip_env, packages)
    podman.build(
        context,
        name,
        step="podman build",
        say=lambda line: printer.line(service.name, line),
        volumes=[f"{bundle}:{CA_INSIDE}:ro"] if bundle else [],
        labels={f"{LABEL}.app": app, f"{LABEL}.service": service.name},
        no_cache=no_cache,
    )
