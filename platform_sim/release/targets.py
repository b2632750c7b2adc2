"""What a command names: ``SVC`` or ``SVC.N``, looked up in the deploy that serves now."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from platform_sim.appfile import buildfile
from platform_sim.appfile.buildfile import BuildFile, Service
from platform_sim.apps import AppPaths, AppRecord
from platform_sim.errors import NotDeployed, UsageError
from platform_sim.hosts.instance import Instance

REFERENCE = re.compile(r"^([a-z0-9_]{1,16})(?:\.([0-9]{1,4}))?$")


@dataclass(frozen=True)
class Ref:
    """A service, and optionally one of its instances (``www`` or ``www.1``)."""

    service: str
    number: int | None = None

    def __str__(self) -> str:
        return self.service if self.number is None else f"{self.service}.{self.number}"


def parse_ref(word: str) -> Ref:
    """``SVC`` or ``SVC.N`` (UsageError saying the expected form otherwise)."""
    match = REFERENCE.fullmatch(word)
    if not match:
        raise UsageError(
            f"{word!r} is neither SVC nor SVC.N: write a service name (lowercase letters, "
            "digits, _), optionally followed by a dot and an instance number, e.g. www or www.0"
        )
    number = match.group(2)
    return Ref(match.group(1), None if number is None else int(number))


def labels(instances: list[Instance]) -> str:
    """``www.0, www.1``."""
    return ", ".join(instance.label for instance in instances) or "none"


@dataclass
class Deployed:
    """The deploy that serves: the app's record, the build file it runs, its instances."""

    paths: AppPaths
    record: AppRecord
    buildfile: BuildFile
    instances: list[Instance]

    @property
    def generation(self) -> int:
        """The number of the deploy."""
        return int(self.record.current["generation"])

    @property
    def revision(self) -> int:
        """The revision it runs."""
        return int(self.record.current["revision"])

    def service(self, name: str) -> Service:
        """A service of the build file (UsageError listing them otherwise)."""
        if name not in self.buildfile.services:
            raise UsageError(
                f"no service {name!r} in application {self.paths.name!r}: "
                f"it has {', '.join(self.buildfile.services)}"
            )
        return self.buildfile.services[name]

    def instances_of(self, ref: Ref) -> list[Instance]:
        """The instances ``ref`` names (UsageError for an unknown service or instance)."""
        service = self.service(ref.service)
        if not service.is_code:
            raise UsageError(
                f"{service.name} is a {service.type} data service: it has no code instances; "
                f"see platform_sim -A {self.paths.name} info {service.name}"
            )
        found = [i for i in self.instances if i.service == ref.service]
        if ref.number is None:
            return found
        chosen = [i for i in found if i.number == ref.number]
        if not chosen:
            raise UsageError(
                f"no instance {ref} in {self.paths.name!r}: {ref.service} has {labels(found)}"
            )
        return chosen

    def one_instance(self, ref: Ref, command: str) -> Instance:
        """The single instance ``ref`` names; several without ``.N`` is an error listing them."""
        found = self.instances_of(ref)
        if len(found) == 1:
            return found[0]
        if not found:
            raise UsageError(
                f"{ref.service} has no instance running in {self.paths.name!r}: push again"
            )
        raise UsageError(
            f"{ref.service} has {len(found)} instances ({labels(found)}): "
            f"name one, e.g. {command} {found[0].label}"
        )


def current(paths: AppPaths) -> Deployed:
    """The deploy that serves (NotDeployed when the app was never pushed)."""
    record = AppRecord.load(paths)
    if record is None or not record.current:
        raise NotDeployed(paths.name)
    parsed = buildfile.load(Path(paths.revision(record.current["revision"])) / "code")
    instances = [Instance.from_json(data) for data in record.current.get("instances", [])]
    return Deployed(paths, record, parsed, instances)
