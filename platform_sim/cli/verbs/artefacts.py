"""The verbs that produce artefacts off the platform: images, exports, kube-play."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from platform_sim.apps import AppRecord, app_paths
from platform_sim.cli.verbs.base import Verbs, app_name, word
from platform_sim.containers import compose, images
from platform_sim.containers.facts import CODE_UID
from platform_sim.containers.kube.export import ExportRequest, export
from platform_sim.containers.kube.local import LocalRun
from platform_sim.ops import variables
from platform_sim.output import Printer


class ArtefactVerbs(Verbs):
    """Build images, export Compose and Kubernetes files, run an export."""

    def image(self, args: argparse.Namespace) -> int:
        """``image build [PATH] [--base IMAGE]``: the images' names, one a line."""
        folder = Path(args.path)
        built = images.build_images(
            folder, app_name(args, folder), base=args.base, printer=Printer(sys.stderr)
        )
        self.out.write("".join(f"{name}\n" for name in built.names.values()))
        return 0

    def export(self, args: argparse.Namespace) -> int:
        """``export compose [PATH] -o DIR [--force] [--port N]``: the files written."""
        if args.action == "kubernetes":
            return self._export_kubernetes(args)
        folder = Path(args.path)
        name = app_name(args, folder)
        record = AppRecord.load(app_paths(name, self.environ))
        written = compose.export_compose(
            folder,
            name,
            Path(args.output),
            force=args.force,
            port=args.port,
            variables=record.variables if record else {},
            scale=record.scale if record else {},
        )
        self.out.write("".join(f"wrote {path}\n" for path in written))
        if not compose.can_give_files():
            self.out.write(
                "Not run as root: the code containers start as root (four capabilities, lost "
                "with it) to read their secret; export as root to start them as uid "
                f"{CODE_UID}\n"
            )
        self.out.write(
            f"Images: platform_sim -A {name} image build {args.path}; then, in {args.output}: "
            "podman-compose up -d (README, Containers)\n"
        )
        return 0

    def _export_kubernetes(self, args: argparse.Namespace) -> int:
        """``export kubernetes [PATH] -o DIR …``."""
        folder = Path(args.path)
        name = app_name(args, folder)
        record = AppRecord.load(app_paths(name, self.environ))
        known = dict(record.variables) if record else {}
        request = ExportRequest(
            folder=folder,
            out=Path(args.output),
            namespace=word(args.namespace),
            image_prefix=word(args.image_prefix),
            tag=word(args.tag),
            storage_class=word(args.storage_class),
            host=word(args.host),
            tls_secret=word(args.tls_secret),
            ingress_namespace=word(args.ingress_namespace),
            externals=tuple(word(value) for value in args.external),
            variables={
                **known,
                **variables.given_assignments([word(v) for v in args.env], args.env_file),
            },
            scale=dict(record.scale) if record else {},
        )
        written = export(name, request)
        self.out.write("".join(f"wrote {path}\n" for path in written))
        self.out.write(f"apply them with: kubectl apply -f {args.output}\n")
        return 0

    def kube_play(self, args: argparse.Namespace) -> int:
        """``kube-play up|down DIR``: the export run by Podman on this machine."""
        run = LocalRun(Path(args.folder), say=self.printer.say)
        if args.action == "down":
            removed = run.down()
            self.out.write(f"Removed {len(removed)} object(s): {', '.join(removed)}\n")
            return 0
        url = run.up(args.port)
        self.out.write(f"{url}\n")
        return 0
