"""Where an application's state lives under ``$PLATFORM_SIM_HOME``, and its record (app.json)."""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from backing_services.filelock import held
from platform_sim.errors import AppNotFound, UsageError
from platform_sim.files import read_json, write_json

HOME_VARIABLE = "PLATFORM_SIM_HOME"
DEFAULT_HOME = "~/.platform_sim"
APP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


def platform_home(environ: Mapping[str, str] | None = None) -> Path:
    """The folder holding every application's state (``$PLATFORM_SIM_HOME``)."""
    environ = os.environ if environ is None else environ
    return Path(environ.get(HOME_VARIABLE) or DEFAULT_HOME).expanduser().absolute()


def check_app_name(name: str) -> str:
    """Return ``name`` if it can name an application, else raise UsageError saying why."""
    if not APP_NAME.fullmatch(name):
        raise UsageError(
            f"{name!r} cannot name an application: use letters, digits, '_', '.', '-' "
            "(at most 63, starting with a letter or digit); choose one with -A NAME"
        )
    return name


@dataclass(frozen=True)
class AppPaths:
    """The folders and files of one application's state."""

    root: Path

    @property
    def name(self) -> str:
        """The application's name."""
        return self.root.name

    record = property(lambda self: self.root / "app.json")
    lock = property(lambda self: self.root / ".lock")
    revisions = property(lambda self: self.root / "revisions")
    builds = property(lambda self: self.root / "builds")
    services = property(lambda self: self.root / "services")
    addons = property(lambda self: self.root / "addons")
    data = property(lambda self: self.root / "data")
    deploys = property(lambda self: self.root / "deploys")
    router = property(lambda self: self.root / "router")
    scratch = property(lambda self: self.root / "tmp")

    def revision(self, number: int) -> Path:
        """A stored revision (its tree is in ``code/``)."""
        return self.revisions / str(number)

    def service(self, name: str) -> Path:
        """A data service's or add-on's folder."""
        return self.services / name

    def addon(self, name: str) -> Path:
        """An add-on's folder."""
        return self.addons / name

    def instance_data(self, service: str, number: int) -> Path:
        """``~/data`` of an instance, kept across deploys."""
        return self.data / f"{service}.{number}"

    def deploy(self, generation: int) -> Path:
        """The homes of one deploy's instances."""
        return self.deploys / str(generation)

    def home(self, generation: int, service: str, number: int) -> Path:
        """An instance's home folder (seen as /home/dotcloud inside the instance)."""
        return self.deploy(generation) / f"{service}.{number}"


@dataclass
class AppRecord:
    """What app.json stores: variables, add-ons, ports, scale, revisions, the serving deploy."""

    name: str
    created: float = field(default_factory=time.time)
    variables: dict[str, str] = field(default_factory=dict)
    addons: dict[str, dict] = field(default_factory=dict)
    router_ports: dict[str, int] = field(default_factory=dict)
    scale: dict[str, int] = field(default_factory=dict)
    last_revision: int = 0
    last_generation: int = 0
    current: dict | None = None
    revisions: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def load(cls, paths: AppPaths) -> AppRecord | None:
        """The stored record (None if the application does not exist)."""
        data = read_json(paths.record)
        return None if data is None else cls(**data)

    def save(self, paths: AppPaths) -> None:
        """Store the record, owner-only."""
        write_json(paths.record, asdict(self))


def app_paths(name: str, environ: Mapping[str, str] | None = None) -> AppPaths:
    """The state folders of application ``name``."""
    return AppPaths(platform_home(environ) / check_app_name(name))


def existing(paths: AppPaths) -> AppRecord:
    """The record of an application that must exist (AppNotFound otherwise)."""
    record = AppRecord.load(paths)
    if record is None:
        raise AppNotFound(
            f"no application {paths.name!r} under {paths.root.parent}: push it first "
            f"(python -m platform_sim -A {paths.name} push PATH)"
        )
    return record


def create(paths: AppPaths) -> AppRecord:
    """The record of an application, created (owner-only folders) if it is new."""
    record = AppRecord.load(paths)
    if record is None:
        paths.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(paths.root, 0o700)
        record = AppRecord(name=paths.name)
        record.save(paths)
    return record


@contextlib.contextmanager
def locked(paths: AppPaths, wait: float = 0.0) -> Iterator[None]:
    """Hold the application's lock (one command changing it at a time)."""
    paths.root.mkdir(parents=True, exist_ok=True, mode=0o700)

    def refused() -> UsageError:
        return UsageError(
            f"another platform_sim command is changing {paths.name!r} right now; "
            "try again when it has finished"
        )

    with held(paths.lock, wait, refused):
        yield
