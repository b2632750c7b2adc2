"""Push: upload a revision, start data services and build (in parallel), then deploy a new
generation of instances beside the old one, switch the router, and stop the old generation."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from platform_sim.appfile import buildfile
from platform_sim.appfile.buildfile import BuildFile
from platform_sim.apps import AppRecord, create, locked
from platform_sim.context import Context
from platform_sim.errors import UsageError
from platform_sim.files import write_json
from platform_sim.hosts import namespace
from platform_sim.hosts.instance import Instance
from platform_sim.release.deploy import deploy_generation, discard_generation
from platform_sim.release.prepare import prepare, timed, upload

KEEP_REVISIONS = 5
ADMIN_PASSWORD_FILE = "admin-password"  # noqa: S105 - a file name, not a password


@dataclass
class PushReport:
    """What a push did: revision, deploy, URLs, where the admin password is, and step timings."""

    app: str
    revision: int
    generation: int
    url: str | None
    urls: dict[str, str]
    admin_files: list[str]
    timings: dict[str, float] = field(default_factory=dict)


def load_buildfile(source: Path) -> BuildFile:
    """Parse and check the build file of the pushed folder."""
    if not source.is_dir():
        raise UsageError(f"{source} is not a folder: push the folder holding dotcloud.yml")
    parsed = buildfile.load(source)
    buildfile.check_supported(parsed)
    return parsed


def prune(ctx: Context, record: AppRecord) -> None:
    """Forget old revisions (their trees and unused virtualenvs) and stray deploy folders."""
    current = (record.current or {}).get("generation")
    if ctx.paths.deploys.is_dir():
        for folder in ctx.paths.deploys.iterdir():
            if folder.name.isascii() and folder.name.isdigit() and int(folder.name) != current:
                discard_generation(ctx, int(folder.name), [])
    numbers = sorted(int(number) for number in record.revisions)
    keep = set(numbers[-KEEP_REVISIONS:])
    if current is not None:
        keep.add(record.current["revision"])
    for number in numbers:
        if number not in keep:
            del record.revisions[str(number)]
            shutil.rmtree(ctx.paths.revision(number), ignore_errors=True)
    used = {
        Path(build["env"])
        for revision in record.revisions.values()
        for build in revision.get("builds", {}).values()
    }
    used |= {
        Path(build["code"])
        for revision in record.revisions.values()
        for build in revision.get("builds", {}).values()
    }
    if ctx.paths.builds.is_dir():
        for service in ctx.paths.builds.iterdir():
            for path in service.iterdir():
                if path.is_dir() and path not in used and path.name.startswith(("env-", "code-")):
                    shutil.rmtree(path, ignore_errors=True)
    record.save(ctx.paths)


def admin_files(instances: list[Instance]) -> list[str]:
    """The admin password files postinstall left in the instances' ~/data."""
    found = []
    for instance in instances:
        path = instance.data / ADMIN_PASSWORD_FILE
        if path.is_file():
            found.append(str(path))
    return found


def push(ctx: Context, source: Path, *, clean: bool = False) -> PushReport:
    """Upload, build and deploy ``source``; on failure the previous deploy keeps serving."""
    started = time.monotonic()
    source = Path(source).resolve()
    parsed = load_buildfile(source)
    namespace.check_privileges()
    timings: dict[str, float] = {}
    with locked(ctx.paths):
        record = create(ctx.paths)
        revision = timed(timings, "upload", lambda: upload(ctx, record, source))
        record.save(ctx.paths)
        prepared = prepare(ctx, record, parsed, revision, clean=clean, timings=timings)
        generation, urls, instances = deploy_generation(
            ctx, record, parsed, revision, prepared, timings
        )
        timed(timings, "prune", lambda: prune(ctx, record))
    timings["total"] = round(time.monotonic() - started, 3)
    write_json(ctx.paths.root / "last-push.json", timings)
    url = urls.get("www") or next(iter(urls.values()), None)
    report = PushReport(
        ctx.paths.name, revision, generation, url, urls, admin_files(instances), timings
    )
    _summary(ctx, report)
    return report


def _summary(ctx: Context, report: PushReport) -> None:
    total = report.timings["total"]
    ctx.printer.say(
        f"-----> Deploy {report.generation} (revision {report.revision}) finished in {total:.1f} s"
    )
    for name, url in report.urls.items():
        ctx.printer.say(f"{name}: {url}")
    if report.url:
        ctx.printer.say(f"Your application is available at: {report.url}")
    for path in report.admin_files:
        ctx.printer.say(f"Admin credentials: user admin, password in {path} (owner-only)")
    if not report.admin_files:
        ctx.printer.say(
            "Admin credentials: none written to ~/data/admin-password by postinstall; "
            "see its output above"
        )
