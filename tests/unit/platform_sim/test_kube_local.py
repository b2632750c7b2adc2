"""The local runner: its translations of what Podman 4.3 lacks, and what it asks Podman to do."""

import base64
import http.server
import itertools
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from backing_services.errors import EngineError
from platform_sim.appfile import buildfile
from platform_sim.containers.export.kubernetes.manifests import (
    KubernetesExport,
    KubernetesRequest,
    build_objects,
)
from platform_sim.containers.kube_play import translate
from platform_sim.containers.kube_play.local import LocalRun, LocalRunError
from platform_sim.errors import UsageError


def objects(tmp_path, **options):
    parsed = buildfile.parse(
        "www: {type: python}\nworkers: {type: python-worker}\ndb: {type: postgresql}\n"
    )
    return build_objects(
        "soup", parsed, KubernetesRequest(tmp_path, tmp_path / "out", tag="1", **options)
    )


def of(objs, kind, name):
    return next(o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name)


def test_a_secret_becomes_the_json_map_podman_reads(tmp_path):
    secret = of(objects(tmp_path), "Secret", "db-credentials")
    payload = json.loads(translate.secret_payload(secret))
    assert payload == secret["data"]
    assert base64.b64decode(payload["POSTGRES_USER"]) == b"root"


def test_a_stateful_set_becomes_a_pod_named_after_its_service_with_its_claim(tmp_path):
    sts = of(objects(tmp_path, namespace="prod"), "StatefulSet", "db")
    pod = translate.data_pod(sts, "prod")
    assert pod["kind"] == "Pod" and pod["metadata"]["name"] == "db"
    assert pod["spec"]["volumes"] == [
        {"name": "data", "persistentVolumeClaim": {"claimName": "prod-data-db-0"}}
    ]
    container = pod["spec"]["containers"][0]
    assert container["envFrom"] == sts["spec"]["template"]["spec"]["containers"][0]["envFrom"]
    assert "volumes" not in sts["spec"]["template"]["spec"]  # the export is left untouched


def test_deployment_pods_are_named_as_kube_play_names_them(tmp_path):
    deployment = of(objects(tmp_path, scale={"workers": 3}), "Deployment", "workers")
    assert translate.pod_names(deployment) == [f"workers-pod-{n}" for n in range(3)]


def test_the_router_balances_over_the_web_pods():
    conf = translate.router_conf("www", [("www-pod-0", 8080), ("www-pod-1", 8080)])
    assert "server www-pod-0:8080 max_fails=0;" in conf
    assert "server www-pod-1:8080 max_fails=0;" in conf
    assert "proxy_pass http://www;" in conf


def test_the_runner_refuses_a_folder_without_an_export(tmp_path):
    with pytest.raises(UsageError, match="no export"):
        LocalRun(tmp_path).up()
    with pytest.raises(UsageError, match="nothing runs"):
        LocalRun(tmp_path).down()


class FakePodman:
    """Records every podman command; answers as an empty machine where everything starts."""

    def __init__(self, foreign_secrets=()):
        self.calls = []
        self.foreign = set(foreign_secrets)
        self.played = False
        self.removed = set()

    def check(self):
        pass

    def run(self, *args, check=True, timeout=0, stdin=None):
        self.calls.append((args, stdin))
        code, out = 0, ""
        if args[:2] in (("pod", "rm"), ("rm", "-f")):
            self.removed.add(args[-1])
        if args[:2] in (("network", "exists"), ("volume", "exists")):
            code = 1
        elif args[:2] == ("pod", "exists"):
            code = 0 if self.played and args[2] not in self.removed else 1
        elif args[:2] == ("container", "exists"):
            code = 1 if args[2] in self.removed else 0
        elif args[:2] == ("secret", "inspect"):
            code = 0 if args[2] in self.foreign else 1
        elif args[:2] == ("kube", "play"):
            self.played = True
        elif args[:2] == ("pod", "inspect"):
            code, out = (0, "Running") if self.played else (1, "")
        elif args[:2] == ("ps", "-a"):
            out = ""
        return type("Result", (), {"returncode": code, "stdout": out, "stderr": ""})()

    def commands(self, *prefix):
        return [args for args, _ in self.calls if args[: len(prefix)] == prefix]


def workers_only(tmp_path):
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "dotcloud.yml").write_text("workers: {type: python-worker}\ndb: {type: postgresql}\n")
    out = tmp_path / "out"
    KubernetesExport("soup", KubernetesRequest(folder, out, tag="1")).export()
    return out


def test_up_plays_the_deployments_as_written_and_translates_the_rest(tmp_path):
    out = workers_only(tmp_path)
    fake = FakePodman()
    url = LocalRun(out, podman=fake, say=lambda line: None).up(port=8123)
    assert url == "http://127.0.0.1:8123/"
    assert fake.commands("network", "create")[0][-1] == "soup-kube-play"
    created = {args[2]: stdin for args, stdin in fake.calls if args[:2] == ("secret", "create")}
    written = {
        d["metadata"]["name"]: d for d in yaml.safe_load_all((out / "10-secrets.yaml").read_text())
    }
    assert {name: json.loads(payload) for name, payload in created.items()} == {
        name: doc["data"] for name, doc in written.items()
    }
    [played] = [
        stdin for args, stdin in fake.calls if args[:2] == ("kube", "play") and args[-1] == "-"
    ]
    assert yaml.safe_load(played) == yaml.safe_load((out / "40-deployments.yaml").read_text())
    [data] = [args for args in fake.commands("kube", "play") if args[-1] != "-"]
    pods = list(yaml.safe_load_all(Path(data[-1]).read_text()))
    assert [pod["metadata"]["name"] for pod in pods] == ["db"]
    assert fake.commands("volume", "create")[0][-1] == "soup-data-db-0"


def test_down_removes_everything_up_created(tmp_path):
    out = workers_only(tmp_path)
    fake = FakePodman()
    run = LocalRun(out, podman=fake, say=lambda line: None)
    run.up(port=8123)
    removed = run.down()
    assert {
        "db",
        "workers-pod-0",
        "secret db-credentials",
        "secret workers-environment",
        "volume soup-data-db-0",
        "network soup-kube-play",
    } <= set(removed)
    assert ("kube", "down", str(out / "40-deployments.yaml")) in fake.commands("kube", "down")
    assert not (out / ".kube-play").exists()


def test_a_secret_of_someone_else_is_never_replaced(tmp_path):
    out = workers_only(tmp_path)
    fake = FakePodman(foreign_secrets={"db-credentials"})
    with pytest.raises(LocalRunError, match="not this run's"):
        LocalRun(out, podman=fake, say=lambda line: None).up(port=8123)
    assert fake.commands("secret", "rm") == []
    assert fake.commands("kube", "play") == []


class FailingPlay(FakePodman):
    """A Deployment's play fails after creating its pods (half done, or interrupted)."""

    def run(self, *args, check=True, timeout=0, stdin=None):
        result = super().run(*args, check=check, timeout=timeout, stdin=stdin)
        if args[:2] == ("kube", "play") and args[-1] == "-":
            raise EngineError("podman kube play failed: half created")
        return result


def test_a_failed_play_is_torn_down_by_down(tmp_path):
    out = workers_only(tmp_path)
    fake = FailingPlay()
    run = LocalRun(out, podman=fake, say=lambda line: None)
    with pytest.raises(LocalRunError):
        run.up(port=8123)
    removed = run.down()
    assert "workers-pod-0" in removed
    assert fake.commands("kube", "down")
    assert ("pod", "rm", "-f", "workers-pod-0") in fake.commands("pod", "rm")
    assert not (out / ".kube-play").exists()


class Stubborn(FakePodman):
    """A volume that cannot be removed (in use by someone else)."""

    def run(self, *args, check=True, timeout=0, stdin=None):
        result = super().run(*args, check=check, timeout=timeout, stdin=stdin)
        if args[:2] == ("volume", "exists"):
            result.returncode = 0
        return result


def test_down_keeps_the_state_while_anything_is_left(tmp_path):
    out = workers_only(tmp_path)
    fake = FakePodman()
    LocalRun(out, podman=fake, say=lambda line: None).up(port=8123)
    stubborn = Stubborn()
    stubborn.played = True
    with pytest.raises(LocalRunError, match="volume soup-data-db-0.*kube-play down"):
        LocalRun(out, podman=stubborn, say=lambda line: None).down()
    assert (out / ".kube-play" / "state.json").is_file()
    assert LocalRun(out, podman=FakePodman(), say=lambda line: None).down()
    assert not (out / ".kube-play").exists()


@pytest.mark.parametrize(
    "text",
    [
        "kind: Namespace\nmetadata: {name: [unclosed\n",
        "- just\n- a list\n",
        "kind: Namespace\n",
        "kind: Namespace\nmetadata: {name: 3}\n",
        "plain text\n",
        "\xff\xfe",
    ],
)
def test_a_damaged_export_is_one_clear_error(tmp_path, text):
    (tmp_path / "00-namespace.yaml").write_bytes(text.encode("latin-1"))
    with pytest.raises(UsageError, match="00-namespace.yaml"):
        LocalRun(tmp_path, podman=FakePodman(), say=lambda line: None).up()


@pytest.mark.parametrize(
    "text", ["{not json", '"a string"', "[]", '{"applied": []}', '{"volumes": [1]}', "\xff"]
)
def test_a_damaged_state_is_one_clear_error(tmp_path, text):
    out = workers_only(tmp_path)
    (out / ".kube-play").mkdir()
    (out / ".kube-play" / "state.json").write_bytes(text.encode("latin-1"))
    for action in (lambda run: run.down(), lambda run: run.up(port=8123)):
        with pytest.raises(UsageError, match="state.json is damaged"):
            action(LocalRun(out, podman=FakePodman(), say=lambda line: None))


class Crashing(FakePodman):
    """The database's container never gets ready: it exits, or restarts again and again."""

    def __init__(self, state):
        super().__init__()
        self.state = state

    def run(self, *args, check=True, timeout=0, stdin=None):
        result = super().run(*args, check=check, timeout=timeout, stdin=stdin)
        if args[0] == "exec":
            result.returncode = 1
        elif args[0] == "inspect" and "{{.RestartCount}}" in args[-1]:
            result.stdout = self.state
        elif args[0] == "logs":
            assert args[1:3] == ("--tail", "25")
            result.stdout = "FATAL:  data directory has wrong ownership\n"
        return result


@pytest.mark.parametrize(
    ("state", "said"), [("exited 0", "stopped"), ("running 3", "keeps restarting")]
)
def test_a_container_that_dies_fails_the_wait_at_once_with_its_log(tmp_path, state, said):
    out = workers_only(tmp_path)
    clock = iter(range(1000)).__next__
    run = LocalRun(
        out, podman=Crashing(state), say=lambda line: None, clock=clock, pause=lambda s: None
    )
    with pytest.raises(LocalRunError, match=f"db-db {said}") as caught:
        run.up(port=8123)
    assert "data directory has wrong ownership" in str(caught.value)
    assert clock() < 10  # long before the 900 s timeout


@pytest.fixture
def site_answers(monkeypatch):
    """The router's site answers at once (no nginx here)."""
    monkeypatch.setattr("platform_sim.containers.kube_play.local.answers", lambda port: True)


class Answering(http.server.BaseHTTPRequestHandler):
    """Answers GET / with 200 when the Host header is ``localhost``, else 500; no log."""

    def do_GET(self):  # noqa: N802 - http.server's name
        self.send_response(200 if self.headers["Host"] == "localhost" else 500)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.parametrize(("host", "ready"), [("localhost", True), ("elsewhere", False)])
def test_an_http_probe_is_a_get_inside_the_container_ready_on_2xx(host, ready):
    server = http.server.HTTPServer(("127.0.0.1", 0), Answering)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        probe = {"httpGet": {"path": "/", "port": server.server_port,
                             "httpHeaders": [{"name": "Host", "value": host}]}}
        command = translate.probe_command(probe)
        assert command[0] == "python3"  # the image's own Python, run by podman exec
        done = subprocess.run([sys.executable, *command[1:]], timeout=30, check=False)
        assert (done.returncode == 0) is ready
    finally:
        server.shutdown()
        server.server_close()


def test_up_waits_until_the_web_pods_answer_their_http_probe(tmp_path, site_answers):
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "dotcloud.yml").write_text("www: {type: python}\ndb: {type: postgresql}\n")
    out = tmp_path / "out"
    KubernetesExport("soup", KubernetesRequest(folder, out, tag="1")).export()
    answers = iter([1, 1, 0])  # not yet, not yet, ready

    class Starting(FakePodman):
        def run(self, *args, check=True, timeout=0, stdin=None):
            if args[0] == "exec" and "http.client" in " ".join(args):
                self.calls.append((args, stdin))
                return type("Result", (), {"returncode": next(answers), "stdout": "",
                                           "stderr": ""})()
            return super().run(*args, check=check, timeout=timeout, stdin=stdin)

    fake = Starting()
    LocalRun(out, podman=fake, say=lambda line: None, clock=itertools.count().__next__,
             pause=lambda seconds: None).up(port=8123)
    probes = [args for args in fake.commands("exec") if "http.client" in " ".join(args)]
    assert len(probes) == 3 and probes[0][1] == "www-pod-0-www"
