"""``destroy``: stop every process of an app (found by its pid files), then remove its state."""

from __future__ import annotations

import shutil
from pathlib import Path

from .context import Context
from .files import read_json
from .procs import Handle
from .state import locked

STOP_GRACE = 75.0


def process_files(root: Path) -> list[Path]:
    """Every pid file under an application's state: instances, router, data services."""
    return sorted(root.rglob("pid.json"))


def stop_everything(ctx: Context) -> int:
    """Stop every process recorded under the application's state; return how many ran."""
    stopped = 0
    ordered = sorted(process_files(ctx.paths.root), key=_order)
    for pid_file in ordered:
        handle = Handle.from_json(read_json(pid_file))
        if handle is not None and ctx.table.alive(handle):
            owner = pid_file.parent
            owner = owner.parent if owner.name == "platform" else owner
            ctx.printer.say(f"-----> Stopping {owner.relative_to(ctx.paths.root)}")
            ctx.table.stop_namespace(handle, STOP_GRACE)
            stopped += 1
        pid_file.unlink(missing_ok=True)
    return stopped


def _order(path: Path) -> int:
    """Router first (no new requests), then instances, then data services last."""
    parts = path.parts
    if "router" in parts:
        return 0
    if "deploys" in parts:
        return 1
    return 2


def destroy(ctx: Context) -> int:
    """Stop the application's processes and delete its state; return how many processes ran."""
    with locked(ctx.paths):
        stopped = stop_everything(ctx)
        shutil.rmtree(ctx.paths.root)
    return stopped
