"""``verify``: rehearse a deploy in a throw-away copy (real data services, every service's
postinstall, the supervisor configuration checked), report per service, leave nothing behind."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from platform_sim.appfile.buildfile import Service
from platform_sim.apps import AppPaths, create
from platform_sim.builder.service import BuildResult
from platform_sim.builder.steps import kill_live_steps
from platform_sim.context import Context
from platform_sim.errors import PlatformError
from platform_sim.hosts import namespace
from platform_sim.output import Printer
from platform_sim.release.deploy import install_instance, new_instances, topology
from platform_sim.release.destroy import stop_everything
from platform_sim.release.prepare import builder_job, prepare, upload
from platform_sim.release.push import load_buildfile
from platform_sim.services import addons


@dataclass(frozen=True)
class ServiceResult:
    """The outcome of one service: passed, or the step that failed and why."""

    service: str
    ok: bool
    message: str = ""
    details: str = ""


def verify(
    source: Path,
    app: str,
    printer: Printer,
    make_context: Callable[[AppPaths, Printer], Context],
    *,
    variables: Mapping[str, str] | None = None,
    addon_names: list[str] | None = None,
) -> list[ServiceResult]:
    """Rehearse the deploy of ``source``; return one result per code service."""
    source = Path(source).resolve()
    parsed = load_buildfile(source)
    namespace.check_privileges()
    scratch = Path(tempfile.mkdtemp(prefix="platform_sim-verify-"))
    try:
        ctx = make_context(AppPaths(scratch / app), printer)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    try:
        record = create(ctx.paths)
        record.variables = dict(variables or {})
        record.addons = {name: {"login": addons.new_login()} for name in addon_names or []}
        record.save(ctx.paths)
        revision = upload(ctx, record, source)
        return _rehearse(ctx, record, parsed, revision)
    finally:
        kill_live_steps()
        printer.step("Removing the throw-away copy")
        stop_everything(ctx)
        shutil.rmtree(scratch, ignore_errors=True)


def _rehearse(ctx: Context, record, parsed, revision: int) -> list[ServiceResult]:  # noqa: ANN001
    code_services = parsed.code_services()
    results: dict[str, ServiceResult] = {}
    code = ctx.paths.revision(revision) / "code"

    def build_job(service: Service) -> Callable[[], BuildResult | None]:
        build = builder_job(ctx, service, code, revision, False, record.variables)

        def run() -> BuildResult | None:
            try:
                return build()
            except PlatformError as exc:  # one service's failure: reported, the others go on
                results[service.name] = ServiceResult(service.name, False, exc.message, exc.details)
                return None

        return run

    try:
        prepared = prepare(
            ctx, record, parsed, revision, clean=False, timings={}, build_job=build_job
        )
    except PlatformError as exc:
        return [ServiceResult(s.name, False, exc.message, exc.details) for s in code_services]
    instances = new_instances(ctx, parsed, 1, scale={s.name: 1 for s in code_services})
    urls = {
        s.name: i.url for s in code_services for i in instances if i.service == s.name and i.url
    }
    topo = topology(ctx, record, parsed, prepared, instances, urls)
    for instance in instances:
        if instance.service in results:
            continue
        service = parsed.services[instance.service]
        try:
            install_instance(
                ctx, instance, service, prepared.builds[instance.service], topo, {}, start=False
            )
        except PlatformError as exc:
            results[instance.service] = ServiceResult(
                instance.service, False, exc.message, exc.details
            )
        else:
            results[instance.service] = ServiceResult(
                instance.service, True, "postinstall and supervisor configuration OK"
            )
    return [results[s.name] for s in code_services]
