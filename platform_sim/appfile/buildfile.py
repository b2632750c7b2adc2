"""Parse ``dotcloud.yml`` with the platform's schema, defaults and positioned error messages."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from platform_sim.appfile.safe_yaml import MAX_CHARACTERS, BuildFileLoader, compose, construct
from platform_sim.errors import BuildFileError, UnsupportedService, UsageError
from platform_sim.kinds import rabbitmq_cluster
from platform_sim.kinds.registry import KINDS

FILENAME = "dotcloud.yml"
NAME_CHARACTERS = re.compile(r"^[a-z0-9_]+$")
MAX_NAME_LENGTH = 16
MAX_INSTANCES = 10
PROGRAM_NAME = re.compile(r"[A-Za-z0-9_-]+")
PLATFORM_PROGRAMS = ("nginx", "gunicorn")
CODE_TYPES = frozenset(
    ["python", "custom", "nodejs", "php", "ruby", "perl", "java", "static"]
    + [f"{base}-worker" for base in ("python", "nodejs", "php", "ruby", "perl", "java")]
)
DATA_TYPES = frozenset(
    ["postgresql", "postgis", "mysql", "redis", "mongodb", "rabbitmq", "solr", "smtp"]
)
SUPPORTED_TYPES = ("python", "python-worker", *KINDS)
PORT_PROTOCOLS = ("http", "tcp", "udp")
DEFAULT_WSGI_PROCESSES = 4
# The expected YAML type of each known key; unknown keys are kept and ignored.
SCHEMA = {
    "type": "string",
    "approot": "string",
    "requirements": "list",
    "systempackages": "list",
    "environment": "dictionary",
    "config": "dictionary",
    "instances": "integer",
    "processes": "dictionary",
    "ports": "dictionary",
    "prebuild": "string",
    "postbuild": "string",
    "postinstall": "string",
    "buildscript": "string",
}


@dataclass(frozen=True)
class Service:
    """One service of the build file, with the platform's defaults filled in."""

    name: str
    type: str
    approot: str = "."
    requirements: tuple[str, ...] = ()
    systempackages: tuple[str, ...] = ()
    environment: dict[str, str] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    instances: int = 1
    processes: dict[str, str] = field(default_factory=dict)
    ports: dict[str, str] = field(default_factory=dict)
    prebuild: str | None = None
    postbuild: str | None = None
    postinstall: str | None = None
    buildscript: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    position: tuple[int, int] = field(default=(1, 1), compare=False)

    @property
    def is_code(self) -> bool:
        """Whether the platform builds this service from the pushed code."""
        return self.type in CODE_TYPES

    @property
    def is_web(self) -> bool:
        """Whether the service answers HTTP behind the router (python, not python-worker)."""
        return self.type == "python"

    @property
    def wsgi_processes(self) -> int:
        """How many WSGI worker processes serve the app (``config: uwsgi_processes``)."""
        return int(self.config.get("uwsgi_processes", DEFAULT_WSGI_PROCESSES))


@dataclass(frozen=True)
class BuildFile:
    """The parsed build file: services in the order the file lists them."""

    services: dict[str, Service]

    def code_services(self) -> list[Service]:
        """The services built from the pushed code, in file order."""
        return [service for service in self.services.values() if service.is_code]

    def data_services(self) -> list[Service]:
        """The data services (databases, brokers), in file order."""
        return [service for service in self.services.values() if not service.is_code]


def _fail(message: str, node: Node | None, filename: str) -> BuildFileError:
    if node is None:
        return BuildFileError(message, 1, 1, filename)
    mark = node.start_mark
    return BuildFileError(message, mark.line + 1, mark.column + 1, filename)


class _Reader:
    """Walk the composed YAML nodes, converting values and raising positioned errors."""

    def __init__(self, loader: BuildFileLoader, filename: str) -> None:
        self.loader = loader
        self.filename = filename

    def fail(self, message: str, node: Node | None) -> BuildFileError:
        """Build the platform's error for ``node``'s position."""
        return _fail(message, node, self.filename)

    def scalar(self, node: ScalarNode) -> Any:
        """The Python value of a scalar node (string, number, boolean or None)."""
        return construct(self.loader, node)

    def value(self, node: Node) -> Any:
        """The Python value of any node (kept as the file wrote it, e.g. in ``config``)."""
        return construct(self.loader, node)

    def kind(self, node: Node) -> str | None:
        """The platform's name for a node's YAML type; None for an empty value."""
        if isinstance(node, MappingNode):
            return "dictionary"
        if isinstance(node, SequenceNode):
            return "list"
        value = self.scalar(node)
        if value is None:
            return None
        if isinstance(value, bool):
            return "boolean"
        if isinstance(value, int):
            return "integer"
        if isinstance(value, float):
            return "float"
        return "string"

    def expect(self, node: Node, expected: str) -> None:
        """Raise unless ``node`` has the expected YAML type (scalars pass as strings)."""
        actual = self.kind(node)
        if actual == expected:
            return
        if expected == "string" and actual in ("integer", "float", "boolean"):
            return
        got = "nothing" if actual is None else f"a type {actual}"
        raise self.fail(f"Expected a type {expected} but got {got}", node)

    def text(self, node: Node) -> str:
        """A scalar node as a string, as the platform read it."""
        self.expect(node, "string")
        value = self.scalar(node)
        return str(value).lower() if isinstance(value, bool) else str(value)

    def pairs(self, node: MappingNode) -> list[tuple[ScalarNode, Node]]:
        """A mapping's (key, value) nodes; keys must be scalars and appear once."""
        seen: set[str] = set()
        for key, _ in node.value:
            if not isinstance(key, ScalarNode):
                raise self.fail(f"Expected a type string but got a type {self.kind(key)}", key)
            if key.value in seen:
                raise self.fail(f'Duplicate entry "{key.value}"', key)
            seen.add(key.value)
        return list(node.value)

    def strings(self, node: Node) -> tuple[str, ...]:
        """A list of strings."""
        self.expect(node, "list")
        return tuple(self.text(item) for item in node.value)

    def mapping(self, node: Node, allow_empty_values: bool = False) -> dict[str, str]:
        """A mapping of string to string."""
        self.expect(node, "dictionary")
        result = {}
        for key, value in self.pairs(node):
            if allow_empty_values and self.kind(value) is None:
                result[key.value] = ""
            else:
                result[key.value] = self.text(value)
        return result


def _check_name(reader: _Reader, key: ScalarNode) -> str:
    name = key.value
    if not NAME_CHARACTERS.fullmatch(name):
        raise reader.fail(f'Invalid characters (lowercase alphanum only) for service "{name}"', key)
    if len(name) > MAX_NAME_LENGTH:
        raise reader.fail(
            f'Invalid service name (must be <= {MAX_NAME_LENGTH} characters) "{name}"', key
        )
    return name


def _service(reader: _Reader, key: ScalarNode, node: Node) -> Service:
    name = _check_name(reader, key)
    reader.expect(node, "dictionary")
    entries = {entry.value: (entry, value) for entry, value in reader.pairs(node)}
    if "type" not in entries:
        raise reader.fail('Missing mandatory entry: "type"', node)
    type_node = entries["type"][1]
    service_type = reader.text(type_node)
    if service_type not in CODE_TYPES and service_type not in DATA_TYPES:
        raise reader.fail(f'Unrecognized service "{service_type}"', type_node)
    if "process" in entries and "processes" in entries:
        later = max(entries["process"][0], entries["processes"][0], key=_order)
        raise reader.fail(
            f'You can\'t have both "process" and "processes" at the same time in service "{name}"',
            later,
        )
    fields: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for entry, (_, value) in entries.items():
        if entry == "type":
            continue
        if entry == "process":
            fields["processes"] = _process(reader, name, value)
        elif entry not in SCHEMA:
            extra[entry] = reader.value(value)
        else:
            fields[entry] = _attribute(reader, entry, value)
    if service_type == "rabbitmq" and "instances" in fields:
        try:
            rabbitmq_cluster.check_size(fields["instances"], f'Service "{name}"')
        except UsageError as exc:
            raise reader.fail(exc.message, entries["instances"][1]) from None
    mark = type_node.start_mark
    return Service(
        name=name,
        type=service_type,
        extra=extra,
        position=(mark.line + 1, mark.column + 1),
        **fields,
    )


def _order(node: Node) -> tuple[int, int]:
    return (node.start_mark.line, node.start_mark.column)


def _process(reader: _Reader, name: str, node: Node) -> dict[str, str]:
    """``process``: one command (named after the service) or a mapping name → command."""
    if isinstance(node, MappingNode):
        return _programs(reader, node)
    _check_program(reader, name, node)
    return {name: reader.text(node)}


def _programs(reader: _Reader, node: Node) -> dict[str, str]:
    """``processes``: a mapping name → command, each name usable as a supervisor program."""
    processes = reader.mapping(node)
    for key, _ in reader.pairs(node):
        _check_program(reader, key.value, key)
    return processes


def _check_program(reader: _Reader, name: str, node: Node) -> None:
    """Refuse a process name that cannot be a supervisor program next to the platform's own."""
    if not PROGRAM_NAME.fullmatch(name):
        raise reader.fail(
            f'Invalid process name "{name}" (letters, digits, "_" and "-" only)', node
        )
    if name in PLATFORM_PROGRAMS:
        raise reader.fail(
            f'Invalid process name "{name}" (the platform runs its own "{name}")', node
        )


def _attribute(reader: _Reader, entry: str, node: Node) -> Any:
    expected = SCHEMA[entry]
    if expected == "list":
        return reader.strings(node)
    if entry == "environment":
        return reader.mapping(node, allow_empty_values=True)
    if entry == "ports":
        ports = reader.mapping(node)
        for (_, value_node), protocol in zip(reader.pairs(node), ports.values(), strict=True):
            if protocol not in PORT_PROTOCOLS:
                raise reader.fail(f'Unrecognized port "{protocol}"', value_node)
        return ports
    if entry == "processes":
        return _programs(reader, node)
    if entry == "config":
        return _config(reader, node)
    if entry == "instances":
        reader.expect(node, "integer")
        count = reader.scalar(node)
        if count < 1:
            raise reader.fail(f"Invalid number of instances {count} (must be >= 1)", node)
        if count > MAX_INSTANCES:
            raise reader.fail(
                f"Invalid number of instances {count} (must be <= {MAX_INSTANCES})", node
            )
        return count
    return reader.text(node)


def _config(reader: _Reader, node: Node) -> dict[str, Any]:
    reader.expect(node, "dictionary")
    config = {}
    for key, value in reader.pairs(node):
        if key.value == "uwsgi_processes":
            reader.expect(value, "integer")
            if reader.scalar(value) < 1:
                raise reader.fail(
                    f"Invalid uwsgi_processes {reader.scalar(value)} (must be >= 1)", value
                )
        config[key.value] = reader.value(value)
    return config


def parse(text: str, filename: str = FILENAME) -> BuildFile:
    """Parse the text of a build file; raise BuildFileError with the platform's message."""
    root, loader = compose(text, filename)
    reader = _Reader(loader, filename)
    if root is None:
        raise BuildFileError(f'"{filename}" is empty!', 1, 1, filename)
    reader.expect(root, "dictionary")
    if not root.value:
        raise reader.fail("service(s) dict cannot be empty", root)
    services = {}
    for key, node in reader.pairs(root):
        service = _service(reader, key, node)
        services[service.name] = service
    return BuildFile(services)


def load(folder: Path) -> BuildFile:
    """Read and parse ``dotcloud.yml`` at the root of ``folder``."""
    path = Path(folder) / FILENAME
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise BuildFileError(f"{path} is not a regular file", None)
        if size > MAX_CHARACTERS:
            raise BuildFileError(
                f"{path} is {size} bytes long; a build file holds at most {MAX_CHARACTERS} bytes",
                None,
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise BuildFileError(
            f"No {FILENAME} in {folder}: the build file must be at the root of the pushed folder",
            None,
        ) from None
    except OSError as exc:
        raise BuildFileError(f"Cannot read {path}: {exc.strerror}", None) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise BuildFileError(f"The file is not UTF-8 text ({exc.reason})", line, column) from None
    return parse(text)


PLATFORM_RUNS = "is not supported by platform_sim (it runs {})"


def check_supported(
    buildfile: BuildFile, supported: tuple[str, ...] = SUPPORTED_TYPES, which: str = PLATFORM_RUNS
) -> None:
    """Refuse, by name, a known service type outside ``supported``; ``which`` says why, its
    ``{}`` the supported types."""
    for service in buildfile.services.values():
        if service.type not in supported:
            line, column = service.position
            raise UnsupportedService(
                f'Service "{service.name}" has type "{service.type}", which '
                + which.format(", ".join(supported)),
                line,
                column,
            )
