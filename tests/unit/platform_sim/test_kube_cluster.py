"""export kubernetes: a rabbitmq service of 3 nodes as a StatefulSet of 3 forming one cluster;
one node stays today's output."""

import base64
import re

import kubernetes_validate
import pytest
import yaml

from platform_sim.appfile import buildfile
from platform_sim.containers.export.kubernetes import cluster
from platform_sim.containers.export.kubernetes.manifests import (
    KubernetesExport,
    KubernetesRequest,
    build_objects,
)
from platform_sim.errors import PlatformError
from platform_sim.kinds import rabbitmq_cluster as nodes
from tests.unit.platform_sim.test_kube_export import VERSIONS

APP = """
www: {{type: python}}
workers: {{type: python-worker}}
db: {{type: postgresql}}
broker: {{type: rabbitmq{instances}}}
"""


def source_with(tmp_path, instances=""):
    folder = tmp_path / "app"
    folder.mkdir(exist_ok=True)
    (folder / "dotcloud.yml").write_text(APP.format(instances=instances))
    return folder


def export(tmp_path, instances=", instances: 3", **options):
    folder = source_with(tmp_path, instances)
    request = KubernetesRequest(folder=folder, out=tmp_path / "out", tag="t1", **options)
    return build_objects("soup", buildfile.load(folder), request)


def find(objects, kind, name):
    [found] = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def decoded(secret):
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


def container(stateful_set):
    [found] = stateful_set["spec"]["template"]["spec"]["containers"]
    return found


def env(stateful_set):
    return {item["name"]: item.get("value") for item in container(stateful_set)["env"]}


def broker_objects(objects):
    return sorted(
        (o["kind"], o["metadata"]["name"])
        for o in objects
        if o["metadata"].get("labels", {}).get("app.kubernetes.io/name") == "broker"
    )


@pytest.mark.parametrize("instances", ["", ", instances: 1"], ids=["absent", "one"])
def test_one_node_is_todays_output(tmp_path, instances):
    objects = export(tmp_path, instances)
    assert broker_objects(objects) == [
        ("NetworkPolicy", "broker-from-app"),
        ("Secret", "broker-credentials"),
        ("Service", "broker"),
        ("StatefulSet", "broker"),
    ]
    stateful = find(objects, "StatefulSet", "broker")
    assert stateful["spec"]["replicas"] == 1
    assert "affinity" not in stateful["spec"]["template"]["spec"]
    assert container(stateful)["readinessProbe"]["exec"]["command"] == [
        "rabbitmq-diagnostics", "-q", "check_port_connectivity"
    ]
    assert "publishNotReadyAddresses" not in find(objects, "Service", "broker")["spec"]
    environment = decoded(find(objects, "Secret", "workers-environment"))
    assert environment["DOTCLOUD_BROKER_AMQP_HOST"] == "broker"
    assert "DOTCLOUD_BROKER_AMQP_URLS" not in environment


def test_three_nodes_are_a_stateful_set_of_three_started_together_spread_over_machines(tmp_path):
    stateful = find(export(tmp_path), "StatefulSet", "broker")
    spec = stateful["spec"]
    assert spec["replicas"] == 3 and spec["serviceName"] == "broker"
    assert spec["podManagementPolicy"] == "Parallel"
    [preferred] = spec["template"]["spec"]["affinity"]["podAntiAffinity"][
        "preferredDuringSchedulingIgnoredDuringExecution"
    ]
    term = preferred["podAffinityTerm"]
    assert term["topologyKey"] == "kubernetes.io/hostname"
    assert term["labelSelector"]["matchLabels"] == spec["selector"]["matchLabels"]
    assert spec["volumeClaimTemplates"][0]["metadata"]["name"] == "data"  # one claim per node


def test_the_headless_service_lists_booting_nodes_with_the_cluster_ports(tmp_path):
    service = find(export(tmp_path), "Service", "broker")
    assert service["spec"]["clusterIP"] == "None"
    assert service["spec"]["publishNotReadyAddresses"] is True
    ports = {p["name"]: p["port"] for p in service["spec"]["ports"]}
    assert ports == {"amqp": 5672, "epmd": 4369, "cluster": 25672}


def test_at_most_one_node_is_evicted_at_a_time(tmp_path):
    budget = find(export(tmp_path), "PodDisruptionBudget", "broker")
    assert budget["spec"]["maxUnavailable"] == 1
    stateful = find(export(tmp_path), "StatefulSet", "broker")
    assert budget["spec"]["selector"] == stateful["spec"]["selector"]


def test_each_node_is_named_in_the_peer_list_by_its_pods_dns_name(tmp_path):
    objects = export(tmp_path, namespace="prod")
    stateful = find(objects, "StatefulSet", "broker")
    variables = env(stateful)
    assert variables["RABBITMQ_USE_LONGNAME"] == "true"
    pod_name = next(i for i in container(stateful)["env"] if i["name"] == cluster.POD_NAME)
    assert pod_name["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    # what Kubernetes makes of $(POD_NAME) in each of the three pods
    names = [
        variables["RABBITMQ_NODENAME"].replace(f"$({cluster.POD_NAME})", f"broker-{n}")
        for n in range(3)
    ]
    assert names == [f"rabbit@broker-{n}.broker.prod" for n in range(3)]
    config = find(objects, "ConfigMap", "broker-cluster")["data"][cluster.CONFIG_KEY]
    assert config == nodes.peer_config(names)
    assert "peer_discovery_backend = classic_config" in config
    mounts = {m["name"]: m["mountPath"] for m in container(stateful)["volumeMounts"]}
    assert variables["RABBITMQ_CONF_EXTRA_FILE"] == f"{mounts['cluster']}/{cluster.CONFIG_KEY}"


def test_the_cookie_is_a_secret_mounted_owner_read_only_and_kept_across_exports(tmp_path):
    objects = export(tmp_path)
    cookie = decoded(find(objects, "Secret", "broker-cookie"))[cluster.COOKIE_KEY]
    assert re.fullmatch(r"[A-Z0-9]{40,}", cookie)
    stateful = find(objects, "StatefulSet", "broker")
    [volume] = [v for v in stateful["spec"]["template"]["spec"]["volumes"] if "secret" in v]
    assert volume["secret"] == {"secretName": "broker-cookie", "defaultMode": 0o400}
    mount = next(m for m in container(stateful)["volumeMounts"] if m["name"] == volume["name"])
    assert mount["readOnly"] is True
    assert env(stateful)["RABBITMQ_ERLANG_COOKIE_FILE"] == f"{mount['mountPath']}/cookie"
    assert cookie not in yaml.safe_dump(stateful)
    # an export written, then exported again into the same folder: the same cookie
    folder = source_with(tmp_path, ", instances: 3")
    request = KubernetesRequest(folder=folder, out=tmp_path / "out", tag="t")
    KubernetesExport("soup", request).export()
    first = decoded(find(export(tmp_path), "Secret", "broker-cookie"))[cluster.COOKIE_KEY]
    again = decoded(find(export(tmp_path), "Secret", "broker-cookie"))[cluster.COOKIE_KEY]
    assert first == again


def written_probe(tmp_path, instances):
    """The broker's readinessProbe command as ``export kubernetes`` writes it to disk."""
    out = tmp_path / "out"
    request = KubernetesRequest(folder=source_with(tmp_path, instances), out=out, tag="t1")
    KubernetesExport("soup", request).export()
    written = [doc for path in out.glob("*.yaml") for doc in yaml.safe_load_all(path.read_text())]
    stateful = find(written, "StatefulSet", "broker")
    return container(stateful)["readinessProbe"]["exec"]["command"]


def test_three_nodes_are_ready_only_as_members_running_beside_a_majority_of_their_peers(tmp_path):
    command = written_probe(tmp_path, ", instances: 3")
    # one CLI start, no shell: the verdict is eval's exit status (a failed match exits 69)
    assert command[:3] == ["rabbitmqctl", "-q", "eval"] and len(command) == 4
    expression = command[3]
    assert "{booted, true} = {booted, rabbit:is_booted(node())}" in expression
    assert "{local_alarms, []} = {local_alarms, rabbit_alarm:get_local_alarms()}" in expression
    # three configured peers, this node one of them, and two of them (a majority) running
    assert "{peers, 3, true} = {peers, length(Peers), lists:member(node(), Peers)}" in expression
    assert "{running_peers, true, _} = {running_peers, 2 * length(Up) > 3, Up}" in expression
    assert expression.endswith(".") and "halt" not in expression
    # Debian's rabbitmqctl re-quotes its arguments through sh -c: nothing there may expand
    assert not set(expression) & set("\"'$`\\\n")


@pytest.mark.parametrize(("count", "majority"), [(1, 1), (3, 2)])
def test_the_rule_holds_with_a_majority_of_the_peers_running_and_not_with_fewer(count, majority):
    expression = cluster.member_check(count)[3]
    assert f"{{peers, {count}, true}}" in expression
    # the rule as written, with ``majority`` running peers, then one fewer
    threshold = re.search(r"\{running_peers, 2 \* length\(Up\) > (\d+), Up\}", expression)
    assert threshold, expression
    assert 2 * majority > int(threshold[1])
    assert not 2 * (majority - 1) > int(threshold[1])  # one of three alone: never ready


def test_one_node_is_ready_without_a_membership_rule(tmp_path):
    command = written_probe(tmp_path, ", instances: 1")
    assert command == ["rabbitmq-diagnostics", "-q", "check_port_connectivity"]


def test_the_app_and_workers_are_given_every_node(tmp_path):
    objects = export(tmp_path, namespace="prod")
    for service in ("www", "workers"):
        environment = decoded(find(objects, "Secret", f"{service}-environment"))
        urls = environment["DOTCLOUD_BROKER_AMQP_URLS"].split(nodes.URL_SEPARATOR)
        password = environment["DOTCLOUD_BROKER_AMQP_PASSWORD"]
        assert urls == [
            f"amqp://root:{password}@broker-{n}.broker.prod:5672" for n in range(3)
        ]
        assert environment["DOTCLOUD_BROKER_AMQP_URL"] == urls[0]  # the first node's, as before
        assert environment["DOTCLOUD_BROKER_AMQP_HOST"] == "broker-0.broker.prod"
    credentials = decoded(find(objects, "Secret", "broker-credentials"))
    assert credentials["RABBITMQ_DEFAULT_PASS"] == password


def test_the_nodes_reach_one_another_on_the_cluster_ports_only(tmp_path):
    policy = find(export(tmp_path), "NetworkPolicy", "broker-between-nodes")
    [rule] = policy["spec"]["ingress"]
    assert [p["port"] for p in rule["ports"]] == [4369, 25672]
    assert rule["from"] == [{"podSelector": {"matchLabels": policy["spec"]["podSelector"][
        "matchLabels"]}}]


def test_scale_chooses_the_size_too(tmp_path):
    stateful = find(export(tmp_path, "", scale={"broker": 3}), "StatefulSet", "broker")
    assert stateful["spec"]["replicas"] == 3


def test_an_external_broker_replaces_the_cluster(tmp_path):
    objects = export(tmp_path, externals=("broker=amqp://u:p@mq.example.com:5672",))
    assert broker_objects(objects) == []
    environment = decoded(find(objects, "Secret", "workers-environment"))
    assert environment["DOTCLOUD_BROKER_AMQP_URL"] == "amqp://u:p@mq.example.com:5672"
    assert "DOTCLOUD_BROKER_AMQP_URLS" not in environment


@pytest.mark.parametrize("version", VERSIONS)
def test_every_cluster_object_validates_strictly(tmp_path, version):
    for doc in export(tmp_path):
        assert kubernetes_validate.validate(doc, version, strict=True) == version


@pytest.mark.parametrize(
    ("instances", "scale"), [
        (", instances: 2", {}), (", instances: 4", {}), ("", {"broker": 2}), ("", {"broker": 0})
    ]
)
def test_a_size_other_than_one_or_three_is_one_line_naming_the_rule(tmp_path, instances, scale):
    # the build file refuses instances: 2 where it reads it (with its line); scale, the export
    with pytest.raises(PlatformError) as refused:
        export(tmp_path, instances, scale=scale)
    message = str(refused.value)
    assert len(message.splitlines()) == 1
    assert "1 or 3" in message and "broker" in message
