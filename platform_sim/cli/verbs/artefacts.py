"""The verbs that produce artefacts off the platform: images, exports, kube-play."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from platform_sim.apps import AppRecord, app_paths
from platform_sim.cli.verbs.base import Verbs, app_name, word
from platform_sim.containers import images
from platform_sim.containers.export.base import Exporter
from platform_sim.containers.export.compose import ComposeExport, ComposeRequest
from platform_sim.containers.export.kubernetes.manifests import KubernetesExport, KubernetesRequest
from platform_sim.containers.kube_play.local import LocalRun
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
        """``export compose|kubernetes [PATH] -o DIR …``: the files written, the next steps."""
        folder = Path(args.path)
        name = app_name(args, folder)
        record = AppRecord.load(app_paths(name, self.environ))
        known = {
            "folder": folder,
            "out": Path(args.output),
            "variables": dict(record.variables) if record else {},
            "scale": dict(record.scale) if record else {},
        }
        if args.action == "kubernetes":
            exporter: Exporter = KubernetesExport(name, self._kubernetes_request(args, known))
        else:
            exporter = ComposeExport(
                name, ComposeRequest(**known, force=args.force, port=args.port)
            )
        written = exporter.export()
        self.out.write("".join(f"wrote {path}\n" for path in written))
        self.out.write("".join(f"{line}\n" for line in exporter.next_steps()))
        return 0

    @staticmethod
    def _kubernetes_request(args: argparse.Namespace, known: dict) -> KubernetesRequest:
        """``export kubernetes``'s options; ``-e``/``--env-file`` over the app's variables."""
        given = variables.given_assignments([word(v) for v in args.env], args.env_file)
        return KubernetesRequest(
            **{**known, "variables": {**known["variables"], **given}},
            namespace=word(args.namespace),
            image_prefix=word(args.image_prefix),
            tag=word(args.tag),
            storage_class=word(args.storage_class),
            host=word(args.host),
            tls_secret=word(args.tls_secret),
            ingress_namespace=word(args.ingress_namespace),
            externals=tuple(word(value) for value in args.external),
            autoscale=tuple(word(value) for value in args.autoscale),
        )

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
