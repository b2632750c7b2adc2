"""minestrone's exceptions: one family under MinestroneError, one module per package holding
them, one name for an unreachable broker, and no import cycle between the broker modules."""

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import minestrone
from minestrone.errors import BrokerUnreachable, MinestroneError, one_line

ROOT = Path(minestrone.__file__).parent
SKIPPED = ("migrations", "manage", "wsgi")


def _modules():
    for info in pkgutil.walk_packages([str(ROOT)], "minestrone."):
        if not any(part in SKIPPED for part in info.name.split(".")):
            yield importlib.import_module(info.name)


def _exceptions():
    found = {}
    for module in _modules():
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__.startswith("minestrone"):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return found


EXCEPTIONS = _exceptions()


def test_the_family_is_found():
    assert len(EXCEPTIONS) >= 15


@pytest.mark.parametrize("name", sorted(EXCEPTIONS))
def test_every_exception_derives_from_the_root_and_lives_in_its_packages_errors_module(name):
    assert issubclass(EXCEPTIONS[name], MinestroneError)
    assert EXCEPTIONS[name].__module__.endswith("errors"), name


@pytest.mark.parametrize(
    "name",
    [
        "minestrone.monitor.errors.InvalidRate",
        "minestrone.monitor.errors.MalformedEvent",
        "minestrone.monitor.errors.UnsupportedOption",
        "minestrone.soup.errors.RoutingKeyError",
    ],
)
def test_bad_values_are_still_value_errors(name):
    assert issubclass(EXCEPTIONS[name], ValueError)


def test_one_name_for_an_unreachable_broker():
    unreachable = [cls for cls in EXCEPTIONS.values() if issubclass(cls, BrokerUnreachable)]
    names = {cls.__name__ for cls in unreachable}
    assert names == {"BrokerUnreachable", "BrokerApiError"}
    for old in ("BrokerUnavailable", "ControlUnavailable"):
        assert not [name for name in EXCEPTIONS if name.endswith(f".{old}")]


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_the_management_api_reader_does_not_import_the_broker_module():
    assert "minestrone.monitor.broker" not in _imports(ROOT / "monitor" / "broker_api.py")


def test_one_line_is_written_once_in_minestrone():
    homes = [
        path.relative_to(ROOT).as_posix()
        for path in ROOT.rglob("*.py")
        if "def one_line(" in path.read_text()
    ]
    assert homes == ["errors.py"]


@pytest.mark.parametrize(
    ("text", "line"),
    [("plain", "plain"), ("two\nlines", "two\\nlines"), ("tab\there", "tab\\there")],
)
def test_one_line_escapes_what_would_break_the_line(text, line):
    assert one_line(text) == line
