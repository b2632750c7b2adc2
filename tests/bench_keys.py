"""The JSON keys each benchmark prints, read from the one place they are listed: the README's
"What each prints" table (under "Benchmarks")."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
TABLE_TITLE = "### What each prints"
# The suite's own settings and server choice: a bench run as a user runs it does without them
# (MINESTRONE_SERVICES=docker, the containers env's, would also reach platform_sim's data
# services in the benches that push).
INHERITED_NOT = (
    "DJANGO_SETTINGS_MODULE",
    "MINESTRONE_ENV_FILE",
    "MINESTRONE_SERVICES",
    "MINESTRONE_POSTGRES_URL",
    "MINESTRONE_RABBITMQ_URL",
    "MINESTRONE_RABBITMQ_MANAGEMENT_URL",
    "MINESTRONE_REDIS_URL",
    "MINESTRONE_MYSQL_URL",
)


def documented() -> dict[str, list[str]]:
    """{bench (as in the table's first column): its keys}, from the README."""
    text = README.read_text()
    section = text[text.index(TABLE_TITLE) :]
    section = section[: section.find("\n#", len(TABLE_TITLE))]
    found = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].startswith("`bench."):
            found[cells[0].strip("`")] = re.findall(r"`([^`]+)`", cells[1])
    return found


def keys_of(*benches: str) -> list[str]:
    """The keys documented for these rows of the table (a bench and its options' rows)."""
    table = documented()
    missing = [bench for bench in benches if bench not in table]
    if missing:
        raise KeyError(f"no row for {', '.join(missing)} in the README's {TABLE_TITLE!r} table")
    return [key for bench in benches for key in table[bench]]


def missing_keys(report: object, keys: list[str]) -> list[str]:
    """The documented keys the report lacks (``a.b``: b in the object under a; ``a[].b``: b in
    every item of the list a; a list with no item lacks nothing)."""
    return [key for key in keys if not _has(report, key.split("."))]


def _has(node: object, path: list[str]) -> bool:
    if not path:
        return True
    head, rest = path[0], path[1:]
    if head.endswith("[]"):
        items = node.get(head[:-2]) if isinstance(node, dict) else None
        return isinstance(items, list) and all(_has(item, rest) for item in items)
    return isinstance(node, dict) and head in node and _has(node[head], rest)


def run(argv: list[str], rows: list[str], env: dict[str, str] | None = None, timeout=600) -> dict:
    """Run ``python -m bench.X ARGS`` (argv) to the end; return its JSON, having checked that
    it exited 0 and printed every key the README lists in these rows of the table."""
    environ = dict(os.environ)
    for name in INHERITED_NOT:
        environ.pop(name, None)  # the bench configures its own, or `env` says
    environ.update(env or {})
    result = subprocess.run(
        [sys.executable, "-m", *argv],
        cwd=README.parent,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"{' '.join(argv)} exited {result.returncode}:\n" + (
        result.stderr[-4000:]
    )
    report = json.loads(result.stdout)
    assert missing_keys(report, keys_of(*rows)) == [], result.stdout
    return report
