"""Application variables (``env``) and add-ons (``addon``): stored in app.json."""

from __future__ import annotations

import shutil
import sys
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

from platform_sim.appfile.environment import check_variable_name
from platform_sim.apps import AppRecord, create, existing, locked
from platform_sim.context import Context
from platform_sim.errors import UsageError
from platform_sim.release.redeploy import RedeployReport, apply
from platform_sim.services import addons


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """``K=V`` words into a mapping (UsageError for a word without ``=`` or a bad name)."""
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(
                f"{pair!r} is not NAME=VALUE: write {pair or 'NAME'}=value "
                "(quote the whole word when the value has spaces)"
            )
        check_variable_name(name)
        values[name] = value
    return values


def given_assignments(words: list[str], source: str | None) -> dict[str, str]:
    """The variables of an ``--env-file`` (when given), then of the ``-e`` words over them."""
    values = read_assignments(source) if source is not None else {}
    values.update(parse_assignments(words))
    return values


def read_assignments(source: str, stdin: BinaryIO | None = None) -> dict[str, str]:
    """``NAME=VALUE`` lines of file ``source`` (``-``: standard input) into a mapping.

    Lines end at ``\n`` (or ``\r\n``) only, never at the other breaks ``str.splitlines``
    knows (``\x1c``, ``\x85``, ``\u2028``…), so a value cannot smuggle in a variable; a line
    holding a control character is refused. Blank lines and lines starting with ``#`` are
    skipped; a value is everything after the first ``=``, as written. Values read this way
    never appear in a process list, as a command-line word would. Any problem is a UsageError
    naming the line, never its value.
    """
    where = "standard input" if source == "-" else source
    try:
        data = (stdin or sys.stdin.buffer).read() if source == "-" else Path(source).read_bytes()
        text = data.decode("utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {where}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{where} is not UTF-8 text") from None
    values = {}
    for number, line in enumerate(_lines(text), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        unwritable = _unwritable_character(line)
        if unwritable:
            raise UsageError(
                f"{where}, line {number}: holds the control character {unwritable}; "
                "a value is one line of printable text (a tab is allowed)"
            )
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep:
            raise UsageError(f"{where}, line {number}: not NAME=VALUE (no '=')")
        try:
            check_variable_name(name)
        except UsageError as exc:
            raise UsageError(f"{where}, line {number}: {exc}") from None
        values[name] = value
    if not values:
        raise UsageError(f"{where} sets no variable: write NAME=VALUE lines")
    return values


def _lines(text: str) -> list[str]:
    """The lines of a NAME=VALUE file: split at ``\n`` only, a ``\r`` before it dropped."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def _unwritable_character(line: str) -> str | None:
    """How the first control or line-separator character of ``line`` is written, if any."""
    for character in line:
        if character != "\t" and unicodedata.category(character) in {"Cc", "Zl", "Zp"}:
            return f"U+{ord(character):04X}"
    return None


def set_variables(ctx: Context, values: Mapping[str, str]) -> RedeployReport | None:
    """Store application variables and redeploy so every instance has them.

    For an app never pushed they are only stored: they apply at the first push.
    """
    for name in values:
        check_variable_name(name)
    names = ", ".join(values)
    return apply(
        ctx,
        lambda record: record.variables.update(values),
        reason=f"Setting {names}",
        store_if_new=True,
    )


def unset_variables(ctx: Context, names: list[str]) -> RedeployReport | None:
    """Remove application variables and redeploy (nothing changes if one is unknown)."""
    record = existing(ctx.paths)
    missing = [name for name in names if name not in record.variables]
    if missing:
        known = ", ".join(sorted(record.variables)) or "none"
        raise UsageError(
            f"no variable {', '.join(missing)} in {ctx.paths.name!r} (it has {known}): "
            "nothing was changed"
        )

    def remove(record: AppRecord) -> None:
        for name in names:
            record.variables.pop(name, None)

    return apply(ctx, remove, reason=f"Removing {', '.join(names)}", store_if_new=True)


def list_variables(ctx: Context) -> dict[str, str]:
    """The application variables."""
    return dict(existing(ctx.paths).variables)


def add_addon(ctx: Context, name: str) -> dict[str, str]:
    """Provision an add-on now (its server starts); return the variables it sets."""
    addons.addon_kind(name)
    with locked(ctx.paths):
        record = create(ctx.paths)
        if name in record.addons:
            raise UsageError(f"{ctx.paths.name!r} already has the {name} add-on")
        settings = {"login": addons.new_login()}
        service = addons.data_service(ctx.paths, name, settings["login"])
        ctx.printer.step(f"Provisioning the {name} add-on")
        running = ctx.data.ensure(service)
        record.addons[name] = settings
        record.save(ctx.paths)
    return addons.variables(name, running)


def remove_addon(ctx: Context, name: str) -> None:
    """Stop an add-on's server and delete it with its data."""
    addons.addon_kind(name)
    existing(ctx.paths)  # an unknown app: say so before the lock, which would create its folder
    with locked(ctx.paths):
        record = existing(ctx.paths)
        if name not in record.addons:
            raise UsageError(f"{ctx.paths.name!r} has no {name} add-on")
        service = addons.data_service(ctx.paths, name, record.addons[name]["login"])
        ctx.data.stop(service)
        shutil.rmtree(service.folder, ignore_errors=True)
        del record.addons[name]
        record.save(ctx.paths)


def list_addons(ctx: Context) -> dict[str, dict]:
    """Each add-on with its status and the variables it sets (when running)."""
    record = existing(ctx.paths)
    result = {}
    for name, settings in record.addons.items():
        service = addons.data_service(ctx.paths, name, settings["login"])
        status = ctx.data.status(service)
        result[name] = {
            "status": "running" if status.get("state") == "ready" else "stopped",
            "login": settings["login"],
        }
    return result
