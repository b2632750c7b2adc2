"""``kube-play down``: remove what a local run created, from what its state recorded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from backing_services.podman import Podman
from platform_sim.containers.kube_play import translate


def recorded_pods(state: dict[str, Any]) -> list[str]:
    """Every pod the state names: the data services' and each played Deployment's."""
    pods = list(state.get("data_pods", []))
    for text in state.get("applied", {}).values():
        pods += translate.pod_names(yaml.safe_load(text))
    return pods


def still_there(podman: Podman, state: dict[str, Any]) -> list[str]:
    """What the state names that Podman still has (empty after a complete tear-down)."""
    checks = [(["pod", "exists", pod], pod) for pod in recorded_pods(state)]
    if state.get("router"):
        checks.append((["container", "exists", state["router"]], state["router"]))
    checks += [(["secret", "inspect", name], f"secret {name}") for name in state.get("secrets", [])]
    checks += [(["volume", "exists", name], f"volume {name}") for name in state.get("volumes", [])]
    if state.get("network_created"):
        checks.append((["network", "exists", state["network"]], f"network {state['network']}"))
    return [what for args, what in checks if podman.run(*args, check=False).returncode == 0]


def tear_down(podman: Podman, folder: Path, state_dir: Path, state: dict[str, Any]) -> list[str]:
    """Router, pods (``podman kube down`` first), secrets, volumes, network; what went."""
    removed: list[str] = []
    pods = recorded_pods(state)
    volumes = set(state.get("volumes", [])) | anonymous_volumes(podman, pods)
    if state.get("router"):
        podman.run("rm", "-f", "-v", state["router"], check=False)
        removed.append(state["router"])
    deployments = folder / "40-deployments.yaml"
    if deployments.is_file():
        podman.run("kube", "down", str(deployments), check=False, timeout=300)
    data = state_dir / "data-pods.yaml"
    if data.is_file():
        podman.run("kube", "down", str(data), check=False, timeout=300)
    for pod in pods:  # also those of a Deployment whose replicas changed since
        podman.run("pod", "rm", "-f", pod, check=False)
    removed += pods
    for secret in state.get("secrets", []):
        podman.run("secret", "rm", secret, check=False)
        removed.append(f"secret {secret}")
    for volume in sorted(volumes):
        podman.run("volume", "rm", "-f", volume, check=False)
        removed.append(f"volume {volume}")
    if state.get("network_created"):
        podman.run("network", "rm", "-f", state["network"], check=False)
        removed.append(f"network {state['network']}")
    return removed


def anonymous_volumes(podman: Podman, pods: list[str]) -> set[str]:
    """The volumes the pods' containers mount (the images' ``VOLUME``s among them)."""
    found: set[str] = set()
    for pod in pods:
        listed = podman.run(
            "ps", "-a", "--filter", f"pod={pod}", "--format", "{{.ID}}", check=False
        ).stdout.split()
        for container in listed:
            mounts = podman.run(
                "inspect", container, "--format", "{{json .Mounts}}", check=False
            ).stdout
            try:
                found |= {m["Name"] for m in json.loads(mounts or "[]") if m.get("Name")}
            except (ValueError, TypeError):
                continue
    return found
