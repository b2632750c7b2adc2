"""Change the app (variables, scale, revision) and redeploy a stored revision the way a push
deploys: new instances beside the old, postinstall, ready, router switched, old ones stopped."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from platform_sim.appfile import buildfile
from platform_sim.appfile.buildfile import Service
from platform_sim.apps import AppRecord, create, locked
from platform_sim.builder.service import COMPLETE_MARKER, BuildResult
from platform_sim.context import Context
from platform_sim.errors import NotDeployed
from platform_sim.hosts import namespace
from platform_sim.release.deploy import deploy_generation
from platform_sim.release.prepare import builder_job, prepare

Change = Callable[[AppRecord], None]


@dataclass
class RedeployReport:
    """What a redeploy did."""

    app: str
    revision: int
    generation: int
    urls: dict[str, str]
    timings: dict[str, float] = field(default_factory=dict)


def stored_builds(
    ctx: Context, record: AppRecord, revision: int
) -> Callable[[Service], Callable[[], BuildResult]]:
    """Jobs giving each service the build ``revision`` was deployed with (rebuilt if gone)."""
    stored = record.revisions.get(str(revision), {}).get("builds", {})
    code = ctx.paths.revision(revision) / "code"
    variables = dict(record.variables)

    def job_for(service: Service) -> Callable[[], BuildResult]:
        def job() -> BuildResult:
            build = stored.get(service.name)
            if build and (Path(build["env"]) / COMPLETE_MARKER).exists():
                env, tree = Path(build["env"]), Path(build["code"])
                if tree.is_dir():
                    ctx.printer.line(service.name, f"Reusing the build of revision {revision}")
                    return BuildResult(service.name, env, tree, build["key"], True)
            return builder_job(ctx, service, code, revision, False, variables)()

        return job

    return job_for


def apply(
    ctx: Context,
    change: Change | None,
    *,
    reason: str,
    revision: int | None = None,
    store_if_new: bool = False,
    deploy: Callable[[Context, AppRecord, int, str], RedeployReport] | None = None,
) -> RedeployReport | None:
    """Apply ``change`` to the record and redeploy so that it takes effect.

    An app never pushed only stores the change when ``store_if_new`` (it applies at the first
    push) and is refused otherwise. If the redeploy fails, the change is undone: the previous
    deploy keeps serving with the settings it had. ``deploy`` replaces ``redeploy`` (tests).
    """
    if not store_if_new and AppRecord.load(ctx.paths) is None:
        raise NotDeployed(ctx.paths.name)  # before the lock, which would create its folder
    with locked(ctx.paths):
        record = create(ctx.paths) if store_if_new else AppRecord.load(ctx.paths)
        if record is None or not record.current:
            if not store_if_new or record is None:
                raise NotDeployed(ctx.paths.name)
            if change:
                change(record)
            record.save(ctx.paths)
            return None
        before = (dict(record.variables), dict(record.scale))
        if change:
            change(record)
        record.save(ctx.paths)
        try:
            return (deploy or redeploy)(
                ctx, record, revision or int(record.current["revision"]), reason
            )
        except BaseException:
            restored = AppRecord.load(ctx.paths) or record
            restored.variables, restored.scale = before
            restored.save(ctx.paths)
            ctx.printer.say(f"-----> Not applied ({reason}); the previous deploy keeps serving")
            raise


def redeploy(ctx: Context, record: AppRecord, revision: int, reason: str) -> RedeployReport:
    """Deploy a stored revision beside the running deploy, then switch to it."""
    namespace.check_privileges()
    started = time.monotonic()
    timings: dict[str, float] = {}
    parsed = buildfile.load(ctx.paths.revision(revision) / "code")
    buildfile.check_supported(parsed)
    ctx.printer.step(f"{reason}: deploying revision {revision}")
    prepared = prepare(
        ctx,
        record,
        parsed,
        revision,
        clean=False,
        timings=timings,
        build_job=stored_builds(ctx, record, revision),
    )
    generation, urls, _ = deploy_generation(ctx, record, parsed, revision, prepared, timings)
    timings["total"] = round(time.monotonic() - started, 3)
    ctx.printer.say(
        f"-----> Deploy {generation} (revision {revision}) finished in {timings['total']:.1f} s"
    )
    for name, url in urls.items():
        ctx.printer.say(f"{name}: {url}")
    return RedeployReport(ctx.paths.name, revision, generation, urls, timings)
