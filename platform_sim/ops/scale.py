"""``scale SVC=N`` / ``SVC:instances=N``: change a code service's instance count, or a RabbitMQ
service's nodes (1 or 3) (redeploys)."""

from __future__ import annotations

import re

from platform_sim.appfile.buildfile import Service
from platform_sim.apps import AppRecord
from platform_sim.context import Context
from platform_sim.errors import UsageError
from platform_sim.kinds import rabbitmq_cluster
from platform_sim.release.redeploy import RedeployReport, apply
from platform_sim.release.targets import current
from platform_sim.services.cluster import is_cluster_kind

MAX_INSTANCES = 10
ASSIGNMENT = re.compile(r"^([^=:]*)(?::([^=]*))?=(.*)$")


def parse_scale(word: str) -> tuple[str, int]:
    """``www=2`` or ``www:instances=2`` into ``("www", 2)`` (UsageError saying how otherwise)."""
    match = ASSIGNMENT.fullmatch(word)
    if not match or not match.group(1):
        raise UsageError(f"{word!r} is not SVC=N: write e.g. workers=2 or workers:instances=2")
    name, setting, count = match.groups()
    if setting is not None and setting != "instances":
        raise UsageError(
            f"{word!r}: platform_sim scales the number of instances only "
            f"(write {name}=N or {name}:instances=N)"
        )
    if not (count.isascii() and count.isdigit()):
        raise UsageError(f"{count!r} is not a number of instances: write e.g. {name}=2")
    return name, int(count)


def check_code_count(name: str, number: int) -> None:
    """Refuse a code service's count outside 1..MAX_INSTANCES (UsageError saying why)."""
    if not 1 <= number <= MAX_INSTANCES:
        raise UsageError(
            f"{name}={number}: a service runs 1 to {MAX_INSTANCES} instances on one machine "
            f"(to stop {name}, use destroy {name})"
        )


def parse_all(words: list[str]) -> dict[str, int]:
    """Every ``SVC=N`` of the command line."""
    return dict(parse_scale(word) for word in words)


def ctx_size(ctx: Context, service: Service) -> int:
    """How many nodes a cluster service runs now (its scale, else its build file's count)."""
    record = AppRecord.load(ctx.paths)
    return (record.scale if record else {}).get(service.name, service.instances)


def scale(ctx: Context, words: list[str]) -> RedeployReport | None:
    """Redeploy with the new instance counts; None when they are already what runs."""
    wanted = parse_all(words)
    deployed = current(ctx.paths)
    running = {}
    for name, number in wanted.items():
        service = deployed.service(name)
        if is_cluster_kind(service.type):
            rabbitmq_cluster.check_size(number, f"{name}={number}")
            running[name] = ctx_size(ctx, service)
            continue
        if not service.is_code:
            code = ", ".join(s.name for s in deployed.buildfile.code_services())
            raise UsageError(
                f"{name} is a {service.type} data service: platform_sim runs one instance of "
                f"each data service and cannot scale it (code services: {code})"
            )
        check_code_count(name, number)
        running[name] = sum(1 for i in deployed.instances if i.service == name)
    if running == wanted:
        ctx.printer.say(
            "Nothing to change: "
            + ", ".join(f"{name} runs {count} instance(s)" for name, count in wanted.items())
        )
        return None

    def change(record: AppRecord) -> None:
        record.scale.update(wanted)

    what = ", ".join(f"{name} to {count}" for name, count in wanted.items())
    return apply(ctx, change, reason=f"Scaling {what}")
