"""A RabbitMQ cluster's facts as platform_sim uses them: node folders, hosts and names, the
peer list, the app's URLS variable, the cookie."""

import stat

from platform_sim.appfile.buildfile import Service
from platform_sim.appfile.environment import Endpoint, data_service_variables
from platform_sim.kinds import rabbitmq_cluster
from platform_sim.services import cluster


def test_node_0_keeps_the_services_folder_host_and_name_the_others_get_their_own(tmp_path):
    nodes = cluster.nodes("broker", "rabbitmq", tmp_path / "broker", 3)
    assert [node.folder for node in nodes] == [
        tmp_path / "broker", tmp_path / "broker" / "node-1", tmp_path / "broker" / "node-2"
    ]
    assert [node.host_key for node in nodes] == [
        f"{tmp_path.name}-broker", f"{tmp_path.name}-broker-1", f"{tmp_path.name}-broker-2"
    ]
    names = [node.host_names for node in nodes]
    assert names == [["broker", "broker-0"], ["broker-1"], ["broker-2"]]


def test_the_cookie_is_made_once_owner_only_and_shared_by_every_node(tmp_path):
    first = cluster.nodes("broker", "rabbitmq", tmp_path / "broker", 3)
    again = cluster.nodes("broker", "rabbitmq", tmp_path / "broker", 1)
    cookie = first[0].cookie
    assert {node.cookie for node in first + again} == {cookie}
    assert stat.S_IMODE(cookie.stat().st_mode) == 0o600
    assert cookie.read_text().isalnum() and len(cookie.read_text()) >= 32


def test_present_and_extra_nodes_follow_the_folders(tmp_path):
    folder = tmp_path / "broker"
    for node in cluster.nodes("broker", "rabbitmq", folder, 3):
        node.folder.mkdir(parents=True, exist_ok=True)
    assert [node.node for node in cluster.present("broker", "rabbitmq", folder)] == [0, 1, 2]
    assert [n.node for n in cluster.extra_nodes("broker", "rabbitmq", folder, 1)] == [2, 1]
    assert cluster.extra_nodes("broker", "rabbitmq", folder, 3) == []
    assert [n.size for n in cluster.present("db", "postgresql", tmp_path / "db")] == [0]


def test_the_peer_list_names_every_node_and_pauses_a_minority():
    text = rabbitmq_cluster.peer_config(rabbitmq_cluster.node_names("broker", 3))
    assert "cluster_formation.peer_discovery_backend = classic_config\n" in text
    assert "cluster_partition_handling = pause_minority\n" in text
    assert "cluster_formation.classic_config.nodes.3 = rabbit@broker-2\n" in text


def test_the_app_gets_every_nodes_url_node_0_first_and_its_url_stays_node_0s():
    service = Service(name="broker", type="rabbitmq")
    endpoint = Endpoint("198.18.0.2", 5001, "root", "p/w", others=(("198.18.0.3", 5002),))
    variables = data_service_variables(service, endpoint)
    assert variables["DOTCLOUD_BROKER_AMQP_URL"] == "amqp://root:p%2Fw@198.18.0.2:5001"
    assert variables["DOTCLOUD_BROKER_AMQP_URLS"] == (
        "amqp://root:p%2Fw@198.18.0.2:5001;amqp://root:p%2Fw@198.18.0.3:5002"
    )
    alone = data_service_variables(service, Endpoint("198.18.0.2", 5001, "root", "pw"))
    assert "DOTCLOUD_BROKER_AMQP_URLS" not in alone


def test_a_joining_node_takes_the_clusters_login_and_only_node_0_is_the_seed():
    first = rabbitmq_cluster.join("broker", 0, 3, "COOKIE")
    second = rabbitmq_cluster.join("broker", 1, 3, "COOKIE", ("root", "pw"))
    assert (first.node, first.seed, first.login) == ("rabbit@broker-0", True, None)
    assert (second.node, second.seed, second.login) == ("rabbit@broker-1", False, ("root", "pw"))
    assert second.epmd_port == rabbitmq_cluster.EPMD_PORT
