"""Benchmark the Kubernetes export run locally against a platform_sim push, in the same run.

- the images of this repository (``image build``, reusing cached layers: not measured against);
- from ``export kubernetes`` to the site answering through the runner's router and every worker
  pod's programs RUNNING, under ``podman kube play`` (data services created);
- the baseline: a cold platform_sim push of the same tree (data services created) until the
  site answers.

Prints JSON with the times and the ratio; leaves nothing running.

    .venv/bin/python -m bench.kube_play [--push-cold SECONDS]

``--push-cold`` takes the baseline from a cold push of the same tree measured elsewhere in the
same run (the suite passes bench.containers' own) instead of pushing again.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backing_services.podman import Podman  # noqa: E402
from platform_sim.apps import AppPaths  # noqa: E402
from platform_sim.builder import upload  # noqa: E402
from platform_sim.containers.export.kubernetes.manifests import (  # noqa: E402
    KubernetesExport,
    KubernetesRequest,
)
from platform_sim.containers.images import build_images, remove_images  # noqa: E402
from platform_sim.containers.kube_play.local import LocalRun  # noqa: E402
from platform_sim.context import make_context  # noqa: E402
from platform_sim.ops.variables import set_variables  # noqa: E402
from platform_sim.output import QuietPrinter  # noqa: E402
from platform_sim.release.destroy import destroy  # noqa: E402
from platform_sim.release.push import push  # noqa: E402

APP = "kubebench"
COPY_SKIPS = [".venv", ".tox", ".ruff_cache", ".pytest_cache", "node_modules"]


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


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its JSON."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.kube_play", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--push-cold", type=float, metavar="SECONDS",
        help="a cold push's time measured elsewhere in this run: no push of its own",
    )  # fmt: skip
    options = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="kube-bench-"))
    folder = scratch / "src" / APP
    upload.copy_tree(ROOT, folder, upload.ignore_patterns(ROOT) + COPY_SKIPS)
    variables = {"DJANGO_SECRET_KEY": secrets.token_urlsafe(40)}
    printer = QuietPrinter()
    os.environ["PLATFORM_SIM_HOME"] = str(scratch / "home")
    ctx = make_context(AppPaths(scratch / "home" / APP), printer)
    podman = Podman()
    manifests = scratch / "manifests"
    run = LocalRun(manifests, say=lambda line: None)
    names: list[str] = []
    result: dict = {"app": APP, "cpus": os.cpu_count()}
    try:
        result["image_build"], built = timed(lambda: build_images(folder, APP, printer=printer))
        names += built.names.values()
        request = KubernetesRequest(folder=folder, out=manifests, variables=variables)
        result["export"], _ = timed(lambda: KubernetesExport(APP, request).export())
        result["kube_play_up"], url = timed(run.up)
        assert answers(url)
        result["export_to_answering"] = round(result["export"] + result["kube_play_up"], 2)
        result["kube_play_down"], _ = timed(run.down)
        if options.push_cold is None:
            set_variables(ctx, variables)
            result["push_cold"], report = timed(lambda: push(ctx, folder))
            assert answers(report.url)
        else:
            result["push_cold"] = options.push_cold
    finally:
        if (manifests / ".kube-play").exists():
            run.down()
        if ctx.paths.root.exists():
            destroy(ctx)
        remove_images(names, podman)
        shutil.rmtree(scratch, ignore_errors=True)
    result["ratio_export_to_answering_vs_push_cold"] = round(
        result["export_to_answering"] / result["push_cold"], 2
    )
    print(json.dumps(result, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
