"""The 3-node broker of export kubernetes under `podman kube play`: three pods forming one
cluster, the KEDA trigger's monitoring account reading the queue and nothing more, a node ready
only as a member of the cluster, the tutorial's story with one broker pod killed, and `down`
leaving nothing. The tests run in order against one local run."""

from __future__ import annotations

import json
import time

import pytest
import yaml

from platform_sim.containers.export.kubernetes import autoscale
from platform_sim.containers.export.kubernetes.files import previous_secrets
from platform_sim.kinds import rabbitmq_cluster as nodes
from tests.integration.platform_sim.conftest import Browser, wait_for

from .conftest import podman
from .test_kube_play import admin_password, export_to, logs, played, queue_job, task_row

pytestmark = pytest.mark.integration

BROKERS = [f"broker-{n}" for n in range(3)]


@pytest.fixture(scope="module")
def cluster(sim_home, built, tmp_path_factory):
    folder = tmp_path_factory.mktemp("kube-cluster") / "manifests"
    export_to(
        folder, sim_home, built, {"www": 1, "workers": 1, "broker": 3},
        autoscale=("workers=1:3",),
    )
    with played(folder) as (run, url):
        yield run, folder, url


def in_broker(pod: str, *command: str, check: bool = True):
    return podman("exec", f"{pod}-broker", *command, check=check, timeout=120)


def running_nodes(pod: str) -> list[str]:
    text = in_broker(pod, "rabbitmq-diagnostics", "-q", "cluster_status", "--formatter", "json")
    return sorted(json.loads(text.stdout)["running_nodes"])


def test_the_three_pods_form_one_cluster(cluster):
    for pod in BROKERS:
        assert running_nodes(pod) == nodes.node_names("broker", 3)


MONITORING_CHECK = """
import base64, json, sys, urllib.error, urllib.request
import amqp
login, password = sys.argv[1], sys.argv[2]
request = urllib.request.Request("http://127.0.0.1:15672/api/queues/%2F/QUEUE_NAME")
token = base64.b64encode(f"{login}:{password}".encode()).decode()
request.add_header("Authorization", f"Basic {token}")
queue = json.load(urllib.request.urlopen(request, timeout=10))
connection = amqp.Connection("127.0.0.1:5672", userid=login, password=password)
connection.connect()
try:
    connection.channel().basic_get("QUEUE_NAME")
    taken = "taken"
except amqp.exceptions.AccessRefused:
    taken = "refused"
print(json.dumps({"messages": queue["messages"], "get": taken}))
"""


def test_the_trigger_account_reads_the_queue_length_and_takes_no_job(cluster):
    _, folder, _ = cluster
    CHECK = MONITORING_CHECK.replace("QUEUE_NAME", autoscale.QUEUE)  # noqa: N806
    account = previous_secrets(folder)["broker-monitoring"]
    login, password = account[autoscale.USER_VARIABLE], account[autoscale.PASSWORD_VARIABLE]
    for pod in BROKERS:  # the account is the cluster's, the API on every node
        deadline = time.monotonic() + 120
        while True:
            tried = in_broker(pod, "python3", "-c", CHECK, login, password, check=False)
            found = tried.stdout.strip()
            if found or time.monotonic() > deadline:
                break
            time.sleep(2)
        assert found, f"{tried.stderr[-1500:]}\n{logs(pod, 'broker')[-3000:]}"
        answer = json.loads(found)
        assert isinstance(answer["messages"], int)  # ready and unacknowledged alike
        assert answer["get"] == "refused"


def written_readiness(folder) -> list[str]:
    """The broker's readinessProbe command, as the export wrote it."""
    for path in folder.glob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc["kind"] == "StatefulSet" and doc["metadata"]["name"] == "broker":
                [container] = doc["spec"]["template"]["spec"]["containers"]
                return container["readinessProbe"]["exec"]["command"]
    raise AssertionError(f"no StatefulSet broker in {folder}")


def ready(pod: str, probe: list[str]) -> bool:
    return in_broker(pod, *probe, check=False).returncode == 0


# Run on a node by `rabbitmqctl eval` (never halt()): its connections to its configured peers
# refused (a cookie of its own for each), or allowed again. A blank node cut off from its peers
# when it starts boots alone, as one that cannot reach them does.
OTHER_PEERS = (
    "{ok, {Peers, _}} = application:get_env(rabbit, cluster_nodes), Others = Peers -- [node()]"
)
CUT_OFF = (
    f"{OTHER_PEERS}, "
    "[{erlang:set_cookie(N, cut_off), erlang:disconnect_node(N)} || N <- Others], ok."
)
RECONNECTED = f"{OTHER_PEERS}, [erlang:set_cookie(N, erlang:get_cookie()) || N <- Others], ok."


def restart_blank(pod: str, before_start: str) -> None:
    """``pod``'s node out of its cluster (reset), ``before_start`` evaluated, then started."""
    for step in (("stop_app",), ("reset",), ("eval", before_start), ("start_app",)):
        in_broker(pod, "rabbitmqctl", "-q", *step)


def test_a_node_is_ready_only_as_a_member_of_the_cluster(cluster):
    _, folder, _ = cluster
    probe = written_readiness(folder)
    assert [pod for pod in BROKERS if not ready(pod, probe)] == []
    leaving = nodes.node_name("broker", 2)
    # broker-2 leaves (its quorum queue replicas first), then boots again alone, running
    in_broker("broker-2", "rabbitmq-queues", "-q", "shrink", leaving)
    try:
        restart_blank("broker-2", CUT_OFF)
        assert running_nodes("broker-2") == [leaving]
        assert not ready("broker-2", probe)
        assert [pod for pod in BROKERS[:2] if not ready(pod, probe)] == []
    finally:  # back in the cluster for the tests after this one
        restart_blank("broker-2", RECONNECTED)
        in_broker("broker-2", "rabbitmq-queues", "-q", "grow", leaving, "all")
    wait_for(lambda: ready("broker-2", probe), 120, "broker-2 to be ready again as a member")
    assert running_nodes("broker-0") == nodes.node_names("broker", 3)


def test_the_story_passes_with_one_broker_pod_killed(cluster):
    # node 0: the first of the app's URLs, where the site, the workers and the camera are
    # connected; they fail over to the two others
    _, _, url = cluster
    podman("pod", "kill", "broker-0")
    wait_for(
        lambda: running_nodes("broker-1") == nodes.node_names("broker", 3)[1:],
        120,
        "broker-0 to be seen down by the others",
    )
    job = queue_job(url, "one-down")
    wait_for(lambda: f"Lazy job {job} completed" in logs("workers-pod-0"), 120, f"{job} to run")
    admin = Browser(url)
    admin.post_form(
        "/admin/login/?next=/admin/", {"username": "admin", "password": admin_password()}
    )
    wait_for(
        lambda: task_row(admin.get(f"/admin/monitor/taskstate/?q={job}"), job),
        120,
        "the admin's Tasks page to list the job as SUCCESS",
    )


def test_down_leaves_no_broker_pod_nor_volume(cluster):
    run, folder, _ = cluster
    run.down()
    pods = podman("pod", "ps", "--format", "{{.Name}}").stdout.split()
    assert not set(BROKERS) & set(pods)
    volumes = podman("volume", "ls", "--format", "{{.Name}}").stdout.split()
    assert not [v for v in volumes if "-data-broker-" in v]
    assert not (folder / ".kube-play").exists()
