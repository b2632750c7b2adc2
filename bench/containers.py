"""Benchmark the container path against platform_sim, in the same run, on this repository.

- image build cold (every layer above the base image rebuilt: apt, virtualenv, code) and warm
  (after a one-line code change: only the code layer);
- Compose: ``podman-compose up -d`` until the site answers and the worker is ready;
- the baseline: a platform_sim push of the same tree (cold, data services created) until the
  site answers, then a warm re-push after the same one-line change.

Prints JSON with the times and the ratios container / platform_sim; leaves nothing running.

    .venv/bin/python -m bench.containers [--reuse-layers]

``--reuse-layers`` lets the "cold" build take the layers already cached (a smoke run, as the
suite's: its cold build and ratio then measure nothing).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backing_services.podman import Podman, ensure_base_image  # noqa: E402
from backing_services.ports import free_ports  # noqa: E402
from platform_sim.apps import AppPaths  # noqa: E402
from platform_sim.builder import upload  # noqa: E402
from platform_sim.containers.export.compose import ComposeExport, ComposeRequest  # noqa: E402
from platform_sim.containers.images import build_images, remove_images  # noqa: E402
from platform_sim.context import make_context  # noqa: E402
from platform_sim.ops.variables import set_variables  # noqa: E402
from platform_sim.output import QuietPrinter  # noqa: E402
from platform_sim.release.destroy import destroy  # noqa: E402
from platform_sim.release.push import push  # noqa: E402

APP = "benchbox"
COPY_SKIPS = [".venv", ".tox", ".ruff_cache", ".pytest_cache", "node_modules"]
CHANGED_FILE = "minestrone/soup/views.py"
TIMEOUT = 600.0


def timed(action) -> tuple[float, object]:  # noqa: ANN001
    """(seconds, result) of ``action()``."""
    started = time.monotonic()
    result = action()
    return round(time.monotonic() - started, 2), result


def answers(url: str) -> bool:
    """Whether the site's front page answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
            return response.status == 200
    except OSError:
        return False


def wait(predicate, what: str) -> None:  # noqa: ANN001
    """Poll until ``predicate()`` holds."""
    deadline = time.monotonic() + TIMEOUT
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: {what} did not happen within {TIMEOUT:g} s")
        time.sleep(0.25)


def compose(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """``podman-compose ARGS`` in ``folder`` with the project's containers.conf."""
    client = shutil.which("podman-compose", path=str(Path(sys.executable).parent)) or (
        "podman-compose"
    )
    return subprocess.run(
        [client, *args], cwd=folder, env=Podman().env, capture_output=True, text=True,
        check=False, timeout=TIMEOUT,
    )  # fmt: skip


def measure_compose(folder: Path, variables: dict) -> float:
    """Export, ``up -d`` until the site answers and the worker is ready; then ``down -v``."""
    deploy = folder.parent / "deploy"
    port = free_ports(1)[0]
    ComposeExport(APP, ComposeRequest(folder, deploy, variables, port=port)).export()
    url = f"http://127.0.0.1:{port}/"
    started = time.monotonic()
    try:
        compose(deploy, "up", "-d")
        wait(lambda: answers(url), "the site answering")
        wait(lambda: " ready." in compose(deploy, "logs", "workers").stdout, "the worker")
        return round(time.monotonic() - started, 2)
    finally:
        compose(deploy, "down", "-v")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its JSON."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.containers", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--reuse-layers", action="store_true", help="the cold build reuses cached layers"
    )
    options = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="containers-bench-"))
    folder = scratch / "src" / APP
    upload.copy_tree(ROOT, folder, upload.ignore_patterns(ROOT) + COPY_SKIPS)
    variables = {"DJANGO_SECRET_KEY": secrets.token_urlsafe(40)}
    podman = Podman()
    base_seconds, _ = timed(lambda: ensure_base_image(podman))
    printer = QuietPrinter()
    os.environ["PLATFORM_SIM_HOME"] = str(scratch / "home")
    ctx = make_context(AppPaths(scratch / "home" / APP), printer)
    names: list[str] = []
    result: dict = {"app": APP, "cpus": os.cpu_count(), "base_image_seconds": base_seconds}
    try:
        result["image_build_cold"], built = timed(
            lambda: build_images(folder, APP, printer=printer, no_cache=not options.reuse_layers)
        )
        names += built.names.values()
        result["compose_up_ready"] = measure_compose(folder, variables)
        set_variables(ctx, variables)
        result["push_cold"], report = timed(lambda: push(ctx, folder))
        assert answers(report.url)
        changed = folder / CHANGED_FILE
        changed.write_text(changed.read_text() + "# benchmark: a one-line change\n")
        result["image_build_warm"], built = timed(
            lambda: build_images(folder, APP, printer=printer)
        )
        names += built.names.values()
        result["push_warm"], _ = timed(lambda: push(ctx, folder))
    finally:
        if ctx.paths.root.exists():
            destroy(ctx)
        remove_images(names, podman)
        shutil.rmtree(scratch, ignore_errors=True)
    result["ratios"] = {
        "image_build_cold_vs_push_cold": round(result["image_build_cold"] / result["push_cold"], 2),
        "compose_up_vs_push_cold": round(result["compose_up_ready"] / result["push_cold"], 2),
        "image_build_warm_vs_push_warm": round(result["image_build_warm"] / result["push_warm"], 2),
    }
    print(json.dumps(result, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
