"""The local runner's translations of what Podman 4.3 lacks (the manifests stay as exported)."""

import base64
import json

import pytest

from platform_sim import buildfile
from platform_sim.errors import UsageError
from platform_sim.kube import translate
from platform_sim.kube.export import ExportRequest, build_objects
from platform_sim.kube.local import LocalRun


def objects(tmp_path, **options):
    parsed = buildfile.parse(
        "www: {type: python}\nworkers: {type: python-worker}\ndb: {type: postgresql}\n"
    )
    return build_objects(
        "soup", parsed, ExportRequest(tmp_path, tmp_path / "out", tag="1", **options)
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
