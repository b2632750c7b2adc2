"""``restart SVC.N``: restart one instance's programs (or the instance, if it is down)."""

from __future__ import annotations

import time
import xmlrpc.client

from . import namespace
from .context import Context
from .errors import PlatformError, UsageError
from .instance import stored_environment
from .state import locked
from .targets import current, labels, parse_ref

RESTART_TIMEOUT = 120.0


def restart(ctx: Context, target: str) -> float:
    """Restart the instance ``target`` names (``SVC.N`` only); return how long it took."""
    ref = parse_ref(target)
    if ref.number is None:
        found = current(ctx.paths).instances_of(ref)
        raise UsageError(
            f"restart needs one instance, not a service: write restart {ref.service}.N "
            f"({ref.service} has {labels(found)})"
        )
    current(ctx.paths).instances_of(ref)  # an unknown app, service or instance: say so first
    namespace.check_privileges()
    with locked(ctx.paths):
        instance = current(ctx.paths).instances_of(ref)[0]
        started = time.monotonic()
        handle = ctx.runner.handle(instance)
        if handle is None:
            ctx.printer.step("supervisord is not running: starting the instance", instance.label)
            handle = ctx.runner.start(instance, stored_environment(instance))
        else:
            ctx.printer.step("Restarting every program", instance.label)
            control = instance.control(RESTART_TIMEOUT)
            try:
                control.restart_all()
            except (OSError, xmlrpc.client.Error) as exc:
                raise PlatformError(
                    f"[{instance.label}] restart failed: {control.describe(exc)}"
                ) from None
        ctx.runner.wait_ready(instance, handle)
        return time.monotonic() - started
