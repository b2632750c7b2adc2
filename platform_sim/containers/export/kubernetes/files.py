"""Manifests as YAML files in a folder, one kind of object per file, in the order to apply."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from platform_sim.errors import UsageError

# File → the kinds it holds; ``kubectl apply -f DIR`` takes them in this (name) order.
FILES = {
    "00-namespace.yaml": ("Namespace",),
    "10-secrets.yaml": ("Secret",),
    "15-config-maps.yaml": ("ConfigMap",),
    "20-services.yaml": ("Service",),
    "30-statefulsets.yaml": ("StatefulSet",),
    "40-deployments.yaml": ("Deployment",),
    "50-disruption-budgets.yaml": ("PodDisruptionBudget",),
    "60-ingress.yaml": ("Ingress",),
    "70-network-policies.yaml": ("NetworkPolicy",),
    "80-autoscaling.yaml": ("TriggerAuthentication", "ScaledObject"),
}
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


class _Dumper(yaml.SafeDumper):
    """Plain YAML: a value used twice (a probe's check) is written twice, not as an alias."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def by_file(objects: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """The objects grouped into their files (files without objects are left out)."""
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for name, kinds in FILES.items():
        chosen = [obj for obj in objects if obj["kind"] in kinds]
        if chosen:
            grouped[name] = chosen
    return grouped


def to_yaml(objects: Sequence[Mapping[str, Any]]) -> str:
    """Documents separated by ``---``, keys in the order they were built."""
    return yaml.dump_all(
        [dict(obj) for obj in objects], Dumper=_Dumper, sort_keys=False, default_flow_style=False
    )


def check_folder(folder: Path) -> None:
    """Refuse a folder that ``kubectl apply -f`` would read other manifests from."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"-o {folder}: exists and is not a folder; choose a folder")
    if not folder.is_dir():
        return
    others = sorted(
        entry.name
        for entry in folder.iterdir()
        if entry.name.endswith(MANIFEST_SUFFIXES) and entry.name not in FILES
    )
    if others:
        raise UsageError(
            f"-o {folder} already holds other manifests ({', '.join(others[:3])}): "
            "kubectl apply -f would apply them too; choose an empty folder"
        )


def previous_secrets(folder: Path) -> dict[str, dict[str, str]]:
    """The Secrets of an earlier export into ``folder`` (name → decoded values), if any."""
    path = folder / "10-secrets.yaml"
    try:
        documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    found = {}
    for doc in documents:
        if not isinstance(doc, dict) or doc.get("kind") != "Secret":
            continue
        try:
            name = doc["metadata"]["name"]
            found[name] = {
                key: base64.b64decode(value).decode("utf-8")
                for key, value in (doc.get("data") or {}).items()
            }
        except (KeyError, TypeError, ValueError):
            continue
    return found
