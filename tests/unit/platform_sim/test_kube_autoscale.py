"""export kubernetes --autoscale SVC=MIN:MAX: a KEDA ScaledObject on the queue's length, checked
against KEDA's published CRD schemas (tests/unit/containers/data/), bad ranges in one line."""

import copy
import json
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jsonschema
import kubernetes_validate
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from minestrone.queues import QUORUM_QUEUE
from platform_sim.containers.export.kubernetes import autoscale
from tests.unit.platform_sim.test_kube_bad_input import FAST, assert_refused, run
from tests.unit.platform_sim.test_kube_cluster import (
    VERSIONS,
    container,
    decoded,
    export,
    find,
)

DATA = Path(__file__).parent.parent / "containers" / "data"


def strict(schema):
    """The CRD schema as ``kubectl apply --validate=strict`` reads it: an object listing its
    properties takes no other field (unless it says it keeps unknown ones)."""
    made = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if (
                "properties" in node
                and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")
            ):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(made)
    return made


SCHEMAS = {
    kind: strict(json.loads((DATA / f"keda-{kind.lower()}.schema.json").read_text()))
    for kind in ("ScaledObject", "TriggerAuthentication")
}


def keda_valid(document):
    jsonschema.validate(document, SCHEMAS[document["kind"]])


def scaled(tmp_path, instances=", instances: 3", **options):
    return export(tmp_path, instances, autoscale=("workers=2:7",), **options)


@pytest.mark.parametrize("instances", ["", ", instances: 3"], ids=["one node", "three nodes"])
def test_the_keda_objects_validate_against_kedas_schemas(tmp_path, instances):
    objects = scaled(tmp_path, instances)
    keda = [o for o in objects if o["apiVersion"].startswith("keda.sh/")]
    assert sorted(o["kind"] for o in keda) == ["ScaledObject", "TriggerAuthentication"]
    for document in keda:
        keda_valid(document)
    for document in objects:
        if document not in keda:
            kubernetes_validate.validate(document, VERSIONS[-1], strict=True)


def test_the_schema_check_catches_a_wrong_field(tmp_path):
    scaled_object = find(scaled(tmp_path), "ScaledObject", "workers")
    scaled_object["spec"]["minReplicas"] = 1
    with pytest.raises(jsonschema.ValidationError):
        keda_valid(scaled_object)


def test_the_trigger_follows_ready_and_unacknowledged_jobs_through_the_management_api(tmp_path):
    objects = scaled(tmp_path)
    spec = find(objects, "ScaledObject", "workers")["spec"]
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                      "name": "workers"}
    assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (2, 7)
    [trigger] = spec["triggers"]
    assert trigger["type"] == "rabbitmq"
    assert trigger["metadata"]["protocol"] == "http"  # the API's count includes unacknowledged
    assert trigger["metadata"]["mode"] == "QueueLength"
    assert trigger["metadata"]["queueName"] == QUORUM_QUEUE  # the app's queue on RabbitMQ
    assert int(trigger["metadata"]["value"]) >= 1
    assert "host" not in trigger["metadata"]  # the credentials stay in the Secret
    deployment = find(objects, "Deployment", "workers")
    assert 2 <= deployment["spec"]["replicas"] <= 7


def test_the_trigger_logs_in_as_a_monitoring_account_of_its_own(tmp_path):
    objects = scaled(tmp_path, namespace="prod")
    authentication = find(objects, "TriggerAuthentication", "workers-rabbitmq-trigger")
    [reference] = authentication["spec"]["secretTargetRef"]
    assert reference["parameter"] == "host"
    url = urlsplit(decoded(find(objects, "Secret", reference["name"]))[reference["key"]])
    assert (url.scheme, url.hostname, url.port) == ("http", "broker.prod.svc", 15672)
    account = decoded(find(objects, "Secret", "broker-monitoring"))
    assert url.username == account[autoscale.USER_VARIABLE] == "keda"
    assert unquote(url.password) == account[autoscale.PASSWORD_VARIABLE]
    credentials = decoded(find(objects, "Secret", "broker-credentials"))
    assert url.username != credentials["RABBITMQ_DEFAULT_USER"]
    assert account[autoscale.PASSWORD_VARIABLE] != credentials["RABBITMQ_DEFAULT_PASS"]
    broker = container(find(objects, "StatefulSet", "broker"))
    assert {"secretRef": {"name": "broker-monitoring"}} in broker["envFrom"]
    ports = {p["name"]: p["port"] for p in find(objects, "Service", "broker")["spec"]["ports"]}
    assert ports["management"] == 15672
    policy = find(objects, "NetworkPolicy", "broker-from-keda")
    [rule] = policy["spec"]["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 15672}]


def test_without_autoscale_there_is_no_management_api_nor_account(tmp_path):
    objects = export(tmp_path)
    assert not [o for o in objects if o["kind"] in ("ScaledObject", "TriggerAuthentication")]
    assert not [o for o in objects if o["metadata"]["name"] == "broker-monitoring"]
    ports = [p["name"] for p in find(objects, "Service", "broker")["spec"]["ports"]]
    assert "management" not in ports


BAD = {
    "empty range": ("workers=", "MIN:MAX"),
    "one bound": ("workers=3", "MIN:MAX"),
    "min below one": ("workers=0:3", "at least 1"),
    "max below min": ("workers=5:2", "empty"),
    "unknown service": ("cache=1:3", "no worker service"),
    "web service": ("www=1:3", "no worker service"),
    "data service": ("db=1:3", "no worker service"),
    "no equals": ("workers", "SVC=MIN:MAX"),
}


@pytest.mark.parametrize("case", BAD, ids=str)
def test_a_bad_range_or_service_is_one_line_naming_the_rule(tmp_path, case):
    value, words = BAD[case]
    result = run(tmp_path, "--autoscale", value)
    assert_refused(result)
    assert words in result[2]


def test_autoscale_needs_the_in_cluster_broker(tmp_path):
    result = run(tmp_path, "--autoscale", "workers=1:3", "--external", "broker=amqp://a:b@mq")
    assert_refused(result)
    assert "management API" in result[2]


def test_autoscale_through_the_command_line(tmp_path):
    code, _, err, written = run(tmp_path, "--autoscale", "workers=1:4")
    assert (code, err) == (0, "") and written
    assert (tmp_path / "out" / "80-autoscaling.yaml").is_file()


@FAST
@given(st.text(st.sampled_from("workers=wx0123456789:- "), max_size=20))
@example("workers=1:1")
@example("workers=:")
def test_any_autoscale_value_is_exported_or_refused_in_one_line(value):
    with tempfile.TemporaryDirectory() as folder:
        result = run(Path(folder), f"--autoscale={value}")
    name, _, bounds = value.partition("=")
    low, _, high = bounds.partition(":")
    good = (
        name == "workers" and low.isdigit() and high.isdigit() and len(low) <= 6
        and len(high) <= 6 and 1 <= int(low) <= int(high)
    )
    if good:
        assert result[0] == 0 and result[3]
    else:
        assert_refused(result)
