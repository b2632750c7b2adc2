"""Before deploying: upload the tree as a revision, then start data services and add-ons while
building every code service, all in parallel."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path

from platform_sim.appfile.buildfile import BuildFile, Service
from platform_sim.apps import AppRecord
from platform_sim.builder.service import BuildResult
from platform_sim.builder.steps import kill_live_steps
from platform_sim.builder.upload import copy_tree
from platform_sim.context import Context
from platform_sim.services import addons, cluster
from platform_sim.services.provision import DataService, Running

LARGE_UPLOAD = 50_000_000


@dataclass
class Prepared:
    """Data services ready, add-on variables known, every code service built."""

    endpoints: dict[str, Running]
    addon_variables: dict[str, dict[str, str]]
    builds: dict[str, BuildResult]


def timed(timings: dict[str, float], name: str, action: Callable[[], object]) -> object:
    """Run ``action``, recording its duration under ``name``."""
    started = time.monotonic()
    try:
        return action()
    finally:
        timings[name] = round(time.monotonic() - started, 3)


def upload(ctx: Context, record: AppRecord, source: Path) -> int:
    """Copy the tree into a new revision; return its number."""
    revision = record.last_revision + 1
    folder = ctx.paths.revision(revision)
    shutil.rmtree(folder, ignore_errors=True)
    ctx.printer.step(f"Uploading {source} as revision {revision}")
    try:
        report = copy_tree(source, folder / "code", warn=_warn(ctx))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    record.last_revision = revision
    record.revisions[str(revision)] = {
        "source": str(source),
        "time": time.time(),
        "files": report.files,
        "bytes": report.size,
    }
    record.save(ctx.paths)
    ctx.printer.say(f"       {report.files} files, {report.size / 1e6:.1f} MB")
    if report.size > LARGE_UPLOAD:
        ctx.printer.say(
            "       Hint: a large upload slows every push and deploy; list what the "
            "app does not need (.venv/, .tox/, caches) in .dotcloudignore"
        )
    return revision


def _warn(ctx: Context) -> Callable[[str], None]:
    """A callback printing one warning line."""
    return lambda text: ctx.printer.say(f"       warning: {text}")


def data_service_for(ctx: Context, service: Service) -> DataService:
    """The data service behind a data-service entry of the build file (``db: {type: …}``)."""
    return cluster.present(service.name, service.type, ctx.paths.service(service.name))[0]


def prepare(
    ctx: Context,
    record: AppRecord,
    parsed: BuildFile,
    revision: int,
    *,
    clean: bool,
    timings: dict[str, float],
    build_job: Callable[[Service], Callable[[], BuildResult]] | None = None,
) -> Prepared:
    """Start data services and add-ons while building every code service; all in parallel.

    ``build_job`` gives the job that provides a service's build (default: build it now); a job
    returning None leaves the service out of ``builds``.
    """
    code = ctx.paths.revision(revision) / "code"
    jobs: dict[str, Callable[[], object]] = {}
    for service in parsed.data_services():
        if cluster.is_cluster_kind(service.type) and ctx.network is not None:
            size = record.scale.get(service.name, service.instances)
            jobs[f"data:{service.name}"] = cluster_starter(ctx, service, size)
            continue
        jobs[f"data:{service.name}"] = starter(ctx, data_service_for(ctx, service), service.type)
    for name, settings in record.addons.items():
        jobs[f"addon:{name}"] = starter(
            ctx, addons.data_service(ctx.paths, name, settings["login"]), f"add-on {name}"
        )
    variables = dict(record.variables)
    for service in parsed.code_services():
        jobs[f"build:{service.name}"] = (
            build_job(service)
            if build_job
            else builder_job(ctx, service, code, revision, clean, variables)
        )
    results = run_parallel(jobs, timings)
    builds = {  # a build job may return None: its failure was reported (verify)
        key.split(":", 1)[1]: value
        for key, value in results.items()
        if key.startswith("build:") and value is not None
    }
    for build in builds.values():
        for step, seconds in build.timings.items():
            timings[f"build:{build.service}:{step}"] = round(seconds, 3)
    endpoints = {
        key.split(":", 1)[1]: value for key, value in results.items() if key.startswith("data:")
    }
    addon_values = {
        key.split(":", 1)[1]: addons.variables(key.split(":", 1)[1], value)
        for key, value in results.items()
        if key.startswith("addon:")
    }
    return Prepared(endpoints, addon_values, builds)


def starter(ctx: Context, service: DataService, what: str) -> Callable[[], Running]:
    """A job that starts (or finds running) a data service, announcing it."""

    def start() -> Running:
        ctx.printer.step(f"Starting {what}", service.name)
        running = ctx.data.ensure(service)
        verb = "created" if running.created else "running"
        ctx.printer.line(
            service.name,
            f"{what} {verb} on {running.endpoint.host}:"
            f"{running.endpoint.port} ({running.provider})",
        )
        return running

    return start


def cluster_starter(ctx: Context, service: Service, size: int) -> Callable[[], Running]:
    """A job that starts (or finds running) a cluster's nodes, node 0 first (the others join
    it), takes out the nodes beyond ``size`` (their replicas first), and gives node 0's
    endpoint with the others' addresses."""
    folder = ctx.paths.service(service.name)

    def start() -> Running:
        members = cluster.nodes(service.name, service.type, folder, size)
        jobs = [
            starter(ctx, node, f"{service.type} node {node.node} of {size}") for node in members
        ]
        if any(node.data.exists() for node in members[1:]):
            # formed before: every node at once (a node waits for the one stopped last)
            first, *others = run_parallel({str(n): job for n, job in enumerate(jobs)}, {}).values()
        else:  # forming: node 0 first, then each new node joins it
            first, *others = [job() for job in jobs]
        leaving = cluster.extra_nodes(service.name, service.type, folder, size)
        if leaving:
            cluster.shrink(
                ctx.data, members[0], leaving, lambda text: ctx.printer.line(service.name, text)
            )
        peers = tuple((r.endpoint.host, r.endpoint.port) for r in others)
        return replace(first, endpoint=replace(first.endpoint, others=peers))

    return start


def builder_job(
    ctx: Context, service: Service, code: Path, revision: int, clean: bool, variables: dict
) -> Callable[[], BuildResult]:
    """A job that builds one code service."""

    def build() -> BuildResult:
        ctx.printer.step(f"Building {service.type} service", service.name)
        return ctx.builder.build(service, code, revision, clean=clean, variables=variables)

    return build


def run_parallel(jobs: Mapping[str, Callable[[], object]], timings: dict[str, float]) -> dict:
    """Run every job (one thread each), wait for all, then raise the first failure if any."""
    if not jobs:
        return {}
    pool = ThreadPoolExecutor(max_workers=len(jobs))
    futures = {}
    try:
        for name, job in jobs.items():
            futures[name] = pool.submit(timed, timings, name, job)
        pool.shutdown(wait=True)
    except BaseException:
        # Interrupted: stop the steps the jobs wait for, so that they end now, and again
        # for any step a job was just starting, until every job has returned.
        pool.shutdown(wait=False, cancel_futures=True)
        while not all(future.done() for future in futures.values()):
            kill_live_steps()
            wait(futures.values(), timeout=0.1)
        raise
    errors = [future.exception() for future in futures.values() if future.exception()]
    if errors:
        raise errors[0]
    return {name: future.result() for name, future in futures.items()}
