"""Run exported manifests on this machine under ``podman kube play``: no cluster needed.

The Deployments are played exactly as exported; what Podman 4.3 lacks (Secrets in the form its
containers read, StatefulSets, Services) is translated by ``translate`` into files of the
runner's own, kept with its state in ``DIR/.kube-play/`` (``kubectl apply -f DIR`` does not
read sub-folders).
"""

from __future__ import annotations

import http.client
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from backing_services.errors import EngineError
from backing_services.podman import LABEL, Podman
from backing_services.ports import free_ports
from platform_sim.address import LOOPBACK
from platform_sim.containers.export.kubernetes.files import FILES
from platform_sim.containers.kube_play import teardown, translate
from platform_sim.errors import PlatformError, UsageError
from platform_sim.files import read_json, write_json, write_text

STATE = ".kube-play"
READY_TIMEOUT = 900.0
STOPPED = ("exited", "stopped", "dead")
RESTART_LIMIT = 3  # restarts while waiting: a crash loop, not a slow start
LOG_LINES = 25
OWNER = f"{LABEL}=kube-play"


class LocalRunError(PlatformError):
    """The local run could not start or stop (Podman failed, or a pod never got ready)."""

    exit_code = 6


def load(folder: Path) -> list[dict[str, Any]]:
    """Every object of an export, in the order to apply them (UsageError if one is malformed)."""
    objects = []
    for name in FILES:
        path = folder / name
        if path.is_file():
            try:
                documents = list(yaml.safe_load_all(path.read_text("utf-8")))
            except (yaml.YAMLError, UnicodeDecodeError) as exc:
                reason = " ".join(str(exc).split())
                raise UsageError(f"{path} is not valid YAML ({reason}): export it again") from None
            for document in documents:
                if document is None:
                    continue
                if not well_formed(document):
                    raise UsageError(
                        f"{path} holds a document that is not a Kubernetes object (a mapping "
                        "with kind and metadata.name): export it again"
                    )
                objects.append(document)
    if not any(obj.get("kind") == "Namespace" for obj in objects):
        raise UsageError(
            f"{folder} holds no export (no {next(iter(FILES))}): write one with "
            "platform_sim export kubernetes PATH -o DIR"
        )
    return objects


def well_formed(document: Any) -> bool:
    """A mapping with a string ``kind`` and a string ``metadata.name``."""
    return (
        isinstance(document, dict)
        and isinstance(document.get("kind"), str)
        and isinstance(document.get("metadata"), dict)
        and isinstance(document["metadata"].get("name"), str)
    )


def of_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """The objects of one kind."""
    return [obj for obj in objects if obj["kind"] == kind]


class LocalRun:
    """Brings an export up and down with Podman, tracking everything it creates."""

    def __init__(
        self,
        folder: Path,
        podman: Podman | None = None,
        say: Callable[[str], None] = print,
        clock: Callable[[], float] = time.monotonic,
        pause: Callable[[float], None] = time.sleep,
    ) -> None:
        self.folder = Path(folder).absolute()
        self.state_dir = self.folder / STATE
        self.podman = podman or Podman()
        self.say = say
        self.clock = clock
        self.pause = pause

    @property
    def state_file(self) -> Path:
        """What the runner created, for ``down`` and a later ``up``."""
        return self.state_dir / "state.json"

    def podman_run(self, *args: str, stdin: bytes | None = None, timeout: float = 600) -> str:
        """``podman ARGS``; LocalRunError with Podman's last line when it fails."""
        try:
            return self.podman.run(*args, stdin=stdin, timeout=timeout).stdout
        except EngineError as exc:
            raise LocalRunError(str(exc)) from None

    def up(self, port: int | None = None) -> str:
        """Start (or update) the app; return its URL on loopback."""
        objects = load(self.folder)
        try:
            self.podman.check()
        except EngineError as exc:
            raise LocalRunError(str(exc)) from None
        namespace = of_kind(objects, "Namespace")[0]["metadata"]["name"]
        state = self._state() or {}
        self.state_dir.mkdir(mode=0o700, exist_ok=True)
        state.setdefault("namespace", namespace)
        state.setdefault("network", f"{namespace}-kube-play")
        state["port"] = port or state.get("port") or free_ports(1)[0]
        state.setdefault("volumes", [])
        state.setdefault("applied", {})
        self._network(state)
        stateful_sets = of_kind(objects, "StatefulSet")
        names = translate.pod_dns_names(stateful_sets, namespace)
        secrets = [translate.local_secret(secret, names) for secret in of_kind(objects, "Secret")]
        self._secrets(state, secrets)
        sources = {o["metadata"]["name"]: o for o in of_kind(objects, "ConfigMap") + secrets}
        self._data(state, stateful_sets, sources, names)
        self._deployments(state, of_kind(objects, "Deployment"))
        url = self._router(state, of_kind(objects, "Deployment"), of_kind(objects, "Service"))
        write_json(self.state_file, state)
        return url

    def _state(self) -> dict[str, Any] | None:
        """The recorded state (None when there is none); UsageError when it is damaged."""
        try:
            state = read_json(self.state_file)
        except (ValueError, OSError) as exc:
            state = exc
        if state is not None and not _valid_state(state):
            raise UsageError(
                f"{self.state_file} is damaged: remove what it made by hand (podman pod ls, "
                "volume ls, secret ls, network ls), then delete the file"
            )
        return state

    def _save(self, state: dict[str, Any]) -> None:
        write_json(self.state_file, state)

    def _network(self, state: dict[str, Any]) -> None:
        network = state["network"]
        if self.podman.run("network", "exists", network, check=False).returncode != 0:
            self.say(f"Creating the Podman network {network} (DNS: pods find one another)")
            self.podman_run("network", "create", "--label", OWNER, network)
            state["network_created"] = True
            self._save(state)

    def _secrets(self, state: dict[str, Any], secrets: list[dict[str, Any]]) -> None:
        names = state.setdefault("secrets", [])
        for secret in secrets:
            name = secret["metadata"]["name"]
            exists = self.podman.run("secret", "inspect", name, check=False).returncode == 0
            if exists and name not in names:
                raise LocalRunError(
                    f"a Podman secret {name!r} exists and is not this run's (Podman's secret "
                    "names are global): stop the run that made it, or remove it with "
                    f"podman secret rm {name}"
                )
            self.podman.run("secret", "rm", name, check=False)
            self.podman_run("secret", "create", name, "-", stdin=translate.secret_payload(secret))
            if name not in names:
                names.append(name)
            self._save(state)
        self.say(f"Secrets: {', '.join(names) or 'none'}")

    def _data(
        self,
        state: dict[str, Any],
        stateful_sets: list[dict[str, Any]],
        sources: dict[str, dict[str, Any]],
        names: re.Pattern,
    ) -> None:
        if not stateful_sets:
            return
        pods = []
        for sts in stateful_sets:
            made, files = translate.stateful_pods(
                sts, state["namespace"], sources, self.state_dir, names
            )
            for path, (text, mode) in files.items():
                path.parent.mkdir(mode=0o700, exist_ok=True)
                write_text(path, text, mode=mode)
            pods += made
        path = self.state_dir / "data-pods.yaml"
        write_text(path, yaml.safe_dump_all(pods, sort_keys=False))
        state["data_pods"] = [pod["metadata"]["name"] for pod in pods]
        for pod in pods:
            for volume in pod["spec"]["volumes"]:
                claim = volume.get("persistentVolumeClaim", {}).get("claimName")
                if claim and claim not in state["volumes"]:
                    if self.podman.run("volume", "exists", claim, check=False).returncode:
                        self.podman_run("volume", "create", "--label", OWNER, claim)
                    state["volumes"].append(claim)
        self._save(state)
        running = [p for p in state["data_pods"] if self._pod_running(p)]
        if len(running) < len(pods):
            self.say(f"Starting the data services: {', '.join(state['data_pods'])}")
            self.podman_run("kube", "play", "--replace", "--network", state["network"], str(path))
        for pod in pods:
            container = pod["spec"]["containers"][0]
            probe = container["readinessProbe"]["exec"]["command"]
            name = f"{pod['metadata']['name']}-{container['name']}"
            self._wait(
                lambda name=name, probe=probe: self._exec_ok(name, probe),
                f"data service {pod['metadata']['name']} to be ready",
                name,
            )

    def _deployments(self, state: dict[str, Any], deployments: list[dict[str, Any]]) -> None:
        applied = state["applied"]
        for deployment in deployments:
            name = deployment["metadata"]["name"]
            text = yaml.safe_dump(deployment, sort_keys=False)
            if applied.get(name) == text and all(
                map(self._pod_running, translate.pod_names(deployment))
            ):
                continue
            if name in applied:  # replaced: its pods stop as a rollout would stop them
                self._stop_pods(yaml.safe_load(applied[name]))
            # recorded before playing: a play that fails half-way leaves pods down must remove
            applied[name] = text
            self._save(state)
            self.say(f"Playing Deployment {name} ({deployment['spec']['replicas']} pod(s))")
            self.podman_run("kube", "play", "--network", state["network"], "-", stdin=text.encode())
        for deployment in deployments:
            container = deployment["spec"]["template"]["spec"]["containers"][0]
            probe = container["readinessProbe"]
            for pod in translate.pod_names(deployment):
                target = f"{pod}-{container['name']}"
                command = translate.probe_command(probe)
                if command is not None:  # the router sends requests only to a ready pod
                    check = lambda target=target, cmd=command: self._exec_ok(  # noqa: E731
                        target, cmd
                    )
                else:
                    check = lambda pod=pod: self._pod_running(pod)  # noqa: E731
                self._wait(check, f"pod {pod} to be ready", target)

    def _router(
        self,
        state: dict[str, Any],
        deployments: list[dict[str, Any]],
        services: list[dict[str, Any]],
    ) -> str:
        url = f"http://127.0.0.1:{state['port']}/"
        web = [s for s in services if s["spec"].get("clusterIP") != "None"]
        if not web:
            return url
        service = web[0]
        name = service["metadata"]["name"]
        [deployment] = [d for d in deployments if d["metadata"]["name"] == name]
        port = service["spec"]["ports"][0]["targetPort"]
        conf = translate.router_conf(name, [(pod, port) for pod in translate.pod_names(deployment)])
        path = self.state_dir / "router.conf"
        write_text(path, conf, mode=0o644)
        router = f"{state['namespace']}-router"
        state["router"] = router
        self._save(state)
        self.podman.run("rm", "-f", "-v", router, check=False)
        image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
        self.podman_run(
            "run",
            "-d",
            "--name",
            router,
            "--label",
            OWNER,
            "--network",
            state["network"],
            "-p",
            f"127.0.0.1:{state['port']}:80",
            "-v",
            f"{path}:/etc/nginx/router.conf:ro",
            "--entrypoint",
            "/usr/sbin/nginx",
            image,
            "-c",
            "/etc/nginx/router.conf",
            "-g",
            "daemon off;",
        )
        self._wait(lambda: answers(state["port"]), f"the site to answer at {url}", router)
        return url

    def _stop_pods(self, deployment: dict[str, Any]) -> None:
        """Stop each pod's containers within their grace period, then remove the pods.

        The containers stop first, while the pod's network still exists, so that the workers'
        warm shutdown closes their broker connections: a new pod of the same name (Podman's
        pod names repeat, unlike a cluster's) would otherwise find its Celery node name still
        held by the old connection.
        """
        spec = deployment["spec"]["template"]["spec"]
        grace = str(spec.get("terminationGracePeriodSeconds", 30))
        for pod in translate.pod_names(deployment):
            for container in spec["containers"]:
                self.podman.run(
                    "stop", "-t", grace, f"{pod}-{container['name']}", check=False, timeout=600
                )
            self.podman.run("pod", "rm", "-f", pod, check=False)

    def _pod_running(self, pod: str) -> bool:
        result = self.podman.run("pod", "inspect", pod, "--format", "{{.State}}", check=False)
        return result.returncode == 0 and result.stdout.strip() == "Running"

    def _exec_ok(self, container: str, command: list[str]) -> bool:
        result = self.podman.run("exec", container, *command, check=False, timeout=60)
        return result.returncode == 0

    def _wait(self, ready: Callable[[], bool], what: str, container: str) -> None:
        """Poll ``ready``; fail at once when ``container`` has stopped or keeps restarting."""
        deadline = self.clock() + READY_TIMEOUT
        exited_before: int | None = None
        while not ready():
            status, restarts = self._container_state(container)
            exited = status in STOPPED
            if restarts >= RESTART_LIMIT or (exited and exited_before == restarts):
                raise LocalRunError(
                    f"{container} {'keeps restarting' if not exited else 'stopped'} "
                    f"({status}, {restarts} restart(s)) while waiting for {what}; its last "
                    f"lines:\n{self._log_tail(container)}"
                )
            exited_before = restarts if exited else None
            if self.clock() > deadline:
                raise LocalRunError(
                    f"timed out after {READY_TIMEOUT:g} s waiting for {what}; the last lines "
                    f"of {container}:\n{self._log_tail(container)}"
                )
            self.pause(1)

    def _container_state(self, container: str) -> tuple[str, int]:
        """A container's status (running, exited…) and restart count ("", 0 when unknown)."""
        result = self.podman.run(
            "inspect", container, "--format", "{{.State.Status}} {{.RestartCount}}", check=False
        )
        words = result.stdout.split() if result.returncode == 0 else []
        if len(words) == 2 and words[1].isdigit():
            return words[0], int(words[1])
        return "", 0

    def _log_tail(self, container: str) -> str:
        """The container's last lines of output (stdout and stderr)."""
        result = self.podman.run("logs", "--tail", str(LOG_LINES), container, check=False)
        return ((result.stdout or "") + (getattr(result, "stderr", "") or "")).rstrip()

    def down(self) -> list[str]:
        """Remove everything ``up`` created (pods, volumes, secrets, network); say what."""
        state = self._state()
        if state is None:
            raise UsageError(f"nothing runs from {self.folder} (no {STATE}/state.json)")
        removed = teardown.tear_down(self.podman, self.folder, self.state_dir, state)
        left = teardown.still_there(self.podman, state)
        if left:  # the state stays: a later down tries again
            raise LocalRunError(
                f"could not remove {', '.join(left)}: see podman's messages above, then run "
                f"kube-play down {self.folder} again"
            )
        shutil.rmtree(self.state_dir, ignore_errors=True)
        return removed


def _valid_state(state: Any) -> bool:
    """The shape ``up`` writes: a mapping whose lists and maps are what they should be."""
    if not isinstance(state, dict):
        return False
    lists = ("volumes", "secrets", "data_pods")
    if any(not isinstance(state.get(key, []), list) for key in lists):
        return False
    if any(not isinstance(item, str) for key in lists for item in state.get(key, [])):
        return False
    applied = state.get("applied", {})
    if not isinstance(applied, dict) or not all(isinstance(v, str) for v in applied.values()):
        return False
    return all(isinstance(state.get(key, ""), str) for key in ("network", "namespace", "router"))


def answers(port: int) -> bool:
    """Whether the site answers through the router (not nginx's own 502/503/504)."""
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=5)
    try:
        connection.request("GET", "/", headers={"Host": "localhost"})
        return connection.getresponse().status < 500
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()
