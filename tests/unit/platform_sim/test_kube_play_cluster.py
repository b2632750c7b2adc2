"""kube-play's translation of a 3-node broker: one pod per node with its own claim, the peer list
and cookie as files, the pods' DNS names shortened to the names Podman's DNS resolves."""

import base64
import stat

from platform_sim.containers.kube_play import translate
from platform_sim.kinds import rabbitmq_cluster as nodes
from tests.unit.platform_sim.test_kube_cluster import decoded, export, find


def translated(tmp_path):
    objects = export(tmp_path, namespace="prod")
    sets = [o for o in objects if o["kind"] == "StatefulSet"]
    names = translate.pod_dns_names(sets, "prod")
    secrets = [translate.local_secret(o, names) for o in objects if o["kind"] == "Secret"]
    sources = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ConfigMap"}
    sources.update({o["metadata"]["name"]: o for o in secrets})
    broker = find(objects, "StatefulSet", "broker")
    pods, files = translate.stateful_pods(broker, "prod", sources, tmp_path / "state", names)
    return objects, secrets, pods, files


def env(pod):
    return {item["name"]: item["value"] for item in pod["spec"]["containers"][0]["env"]}


def test_each_node_is_a_pod_named_as_kubernetes_names_it_with_a_claim_of_its_own(tmp_path):
    _, _, pods, _ = translated(tmp_path)
    assert [pod["metadata"]["name"] for pod in pods] == ["broker-0", "broker-1", "broker-2"]
    for number, pod in enumerate(pods):
        claims = [v for v in pod["spec"]["volumes"] if "persistentVolumeClaim" in v]
        assert claims == [
            {"name": "data", "persistentVolumeClaim": {"claimName": f"prod-data-broker-{number}"}}
        ]
        assert "affinity" not in pod["spec"]


def test_the_nodes_take_the_pod_names_podman_resolves(tmp_path):
    _, _, pods, files = translated(tmp_path)
    names = [env(pod)["RABBITMQ_NODENAME"] for pod in pods]
    assert names == nodes.node_names("broker", 3)  # rabbit@broker-0 …
    for pod in pods:
        assert env(pod)["RABBITMQ_USE_LONGNAME"] == "false"
        assert env(pod)["POD_NAME"] == pod["metadata"]["name"]
    config = files[tmp_path / "state" / "broker-1-cluster" / "cluster.conf"][0]
    assert config == nodes.peer_config(nodes.node_names("broker", 3))


def test_the_cookie_is_a_read_only_file_of_the_runners_mounted_where_the_secret_was(tmp_path):
    objects, _, pods, files = translated(tmp_path)
    cookie = decoded(find(objects, "Secret", "broker-cookie"))["cookie"]
    text, mode = files[tmp_path / "state" / "broker-2-cookie" / "cookie"]
    assert (text, stat.S_IMODE(mode)) == (cookie, 0o400)
    [volume] = [v for v in pods[2]["spec"]["volumes"] if v["name"] == "cookie"]
    assert volume == {
        "name": "cookie",
        "hostPath": {"path": str(tmp_path / "state" / "broker-2-cookie"), "type": "Directory"},
    }


def test_the_apps_urls_name_the_pods(tmp_path):
    _, secrets, _, _ = translated(tmp_path)
    [workers] = [s for s in secrets if s["metadata"]["name"] == "workers-environment"]
    environment = decoded(workers)
    password = environment["DOTCLOUD_BROKER_AMQP_PASSWORD"]
    assert environment["DOTCLOUD_BROKER_AMQP_URLS"] == ";".join(
        f"amqp://root:{password}@broker-{n}:5672" for n in range(3)
    )
    assert environment["DOTCLOUD_BROKER_AMQP_HOST"] == "broker-0"
    assert environment["DOTCLOUD_DB_SQL_HOST"] == "db"  # a single pod keeps its Service's name


def test_a_single_node_is_translated_as_before(tmp_path):
    objects = export(tmp_path, "", namespace="prod")
    sts = find(objects, "StatefulSet", "broker")
    names = translate.pod_dns_names([sts], "prod")
    pods, files = translate.stateful_pods(sts, "prod", {}, tmp_path, names)
    assert (pods, files) == ([translate.data_pod(sts, "prod")], {})
    secret = find(objects, "Secret", "workers-environment")
    assert translate.local_secret(secret, names) == secret
    assert base64.b64decode(secret["data"]["DOTCLOUD_BROKER_AMQP_HOST"]) == b"broker"
