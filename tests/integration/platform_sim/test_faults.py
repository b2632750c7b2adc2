"""The fault suite, small: this repository pushed, a few 1 s jobs per scenario through the form
and directly, one short fault each (the bench's own scenarios, ``bench/faults.py``); no job is
lost, and a job that started after the fault completes within the bound stated below. The
faults are undone: no firewall rule, stopped process or namespace is left.

The scenarios are grouped by what they hurt (workers, broker, database; the servers of an app
on MySQL and Redis); each group has an app of its own, pushed into its own PLATFORM_SIM_HOME,
so that pytest-xdist runs the groups side by side (a class is one unit of work); within a group
they run one after the other."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bench import faults as bench
from bench.push import COPY_SKIPS, set_instances, set_kinds
from minestrone.queues import DEFAULT_DELIVERY_LIMIT
from platform_sim.builder import upload
from platform_sim.faults import sites
from platform_sim.faults.inject import Faults
from tests import bench_keys
from tests.pace import within

from .conftest import REPO, platform_home

pytestmark = pytest.mark.integration
JOBS = 6
HEALTHY_AGAIN_WITHIN = 90.0  # after one scenario, before the next
# scenario: (fault seconds, a job started after the fault completes within this many seconds on
# the reference machine; stretched on a slower one, tests/pace.py). Faults are shorter than the
# bench's (bench/faults.py) to keep each group near 2 minutes.
SMALL = {
    "worker-pool-child-kill": (6, 30),
    "worker-main-kill": (6, 30),  # supervisord restarts the worker at once
    "worker-crash-into-fatal": (0, 60),  # the platform's watchdog: within 60 s
    "broker-kill": (0, 30),  # the broker's host restarts beam.smp (under 15 s), then the
    # worker reconnects with its own backoff
    "broker-stop-start": (8, 30),
    "database-kill": (0, 30),
    "database-sigstop": (10, 30),
    "partition-workers-broker": (10, 30),
    "partition-www-broker": (10, 30),
    "partition-workers-db": (10, 30),
    "redeploy": (0, 30),
    "redis-kill": (0, 30),  # the broker's host restarts redis-server; its append-only file
    # (synced at each write) gives back every job it acknowledged
    "mariadb-kill": (0, 30),
    # a 3-node broker: the other nodes keep serving, the app fails over to one of them
    "cluster-leader-kill": (0, 30),
    "cluster-partition": (15, 45),  # node 0 pauses itself once it sees the partition
    "cluster-rolling-restart": (2, 60),  # each node back as a member before the next stops
    # its pool process killed at each of its 6 runs; the fault ends when it is dead-lettered
    "cluster-poison-job": (0, 30),
}


# each group on an app of its own; every scenario of SMALL in exactly one group
GROUPS = {
    "workers": ("worker-pool-child-kill", "worker-main-kill", "worker-crash-into-fatal"),
    "broker": (
        "broker-kill",
        "broker-stop-start",
        "partition-workers-broker",
        "partition-www-broker",
    ),
    "database": ("database-kill", "database-sigstop", "partition-workers-db", "redeploy"),
    "kinds": ("redis-kill", "mariadb-kill"),  # on MySQL and Redis: one push of its own
    "cluster": (
        "cluster-leader-kill",
        "cluster-partition",
        "cluster-rolling-restart",
        "cluster-poison-job",
    ),
}


def test_every_scenario_runs_in_exactly_one_group():
    grouped = [name for names in GROUPS.values() for name in names]
    assert sorted(grouped) == sorted(SMALL) == sorted(bench.SCENARIOS)


@pytest.fixture(scope="class")
def pushed(request, tmp_path_factory):
    """This repository pushed into a PLATFORM_SIM_HOME of the class's own (a copy whose
    dotcloud.yml names the class's ``KINDS`` and ``BROKER_NODES``, if it has any); destroyed
    after."""
    kinds = getattr(request.cls, "KINDS", None)
    nodes = getattr(request.cls, "BROKER_NODES", 1)
    source = REPO
    if kinds or nodes != 1:
        source = tmp_path_factory.mktemp("src") / "minestrone"
        upload.copy_tree(REPO, source, upload.ignore_patterns(REPO) + COPY_SKIPS)
        if kinds:
            set_kinds(source, kinds)
        if nodes != 1:
            set_instances(source, "broker", nodes)
    with platform_home(tmp_path_factory) as home:
        deployment = bench.Deployment(home, source)
        deployment.push()
        yield deployment, []


@pytest.fixture
def site(pushed):
    """The pushed app, healthy again; once it is not, every later scenario fails at once."""
    deployment, unhealthy = pushed
    if unhealthy:
        pytest.fail(f"the app is still unhealthy: {unhealthy[0]}")
    try:
        deployment.healthy(timeout=within(HEALTHY_AGAIN_WITHIN))
    except bench.BenchError as error:
        unhealthy.append(str(error))
        raise
    return deployment


def homes(service: dict) -> list[str]:
    """The home of each instance of an ``info --json`` service."""
    return [instance["home"] for instance in service["instances"]]


def rules(netns: str) -> str:
    return subprocess.run(
        ["ip", "netns", "exec", netns, "iptables", "-S"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def check_scenario(site, scenario: str) -> None:
    """Run one scenario on the site: nothing lost, jobs again within its bound, faults undone."""
    seconds, bound = SMALL[scenario]
    with Faults() as faults:
        row = bench.run_scenario(site, faults, scenario, JOBS, seconds)
        assert faults.active == []
    assert row["sent"] == JOBS, row
    assert row["lost"] == 0, row
    assert row["quiet"], row
    assert row["recovery_s"] is not None and row["recovery_s"] < within(bound), row
    if scenario in ("partition-www-broker", "broker-stop-start"):  # the fault did bite
        assert row["site_503_s"] > 0, row
    if scenario == "redis-kill":  # the site said 503 while Redis was out, never 500
        assert row["other_site_failures"] == [], row
    if scenario in ("partition-workers-db", "mariadb-kill"):  # the camera kept every row
        assert row["camera_missing"] == 0, row
    if scenario == "cluster-poison-job":  # dead-lettered once, after its runs, and nothing else
        assert row["poison_dead_lettered"] == 1, row
        assert row["dead_lettered"] == 1, row
        assert row["poison_runs"] == DEFAULT_DELIVERY_LIMIT + 1, row
        assert row["duplicated"] == 0, row
        kills = [fault for fault in row["faults"] if "running the poison job" in fault]
        assert len(kills) == row["poison_runs"], row
    for service in ("workers", "broker", "www", "db"):
        assert "platform_sim-fault" not in rules(site.host(service).netns)


class TestWorkerFaults:
    """Faults of the worker's processes, on an app of their own; then the bench command on it
    (the shortest group: no push of its own for the bench)."""

    @pytest.mark.parametrize("scenario", GROUPS["workers"])
    def test_no_job_is_lost_and_jobs_run_again_soon(self, site, scenario):
        check_scenario(site, scenario)

    def test_the_bench_reads_what_info_json_says(self, site):
        """The bench reads ``info`` through the library, in its own process (no CLI run); it
        finds what the CLI prints."""
        printed = json.loads(site.cli("info", "--json"))
        read = site.info()
        assert read["services"].keys() == printed["services"].keys()
        for name, service in printed["services"].items():
            assert homes(read["services"][name]) == homes(service), name
        assert read["url"] == printed["url"]

    def test_the_bench_command_on_the_pushed_app_prints_the_documented_keys(self, site, capsys):
        """``python -m bench.faults`` at a tiny size (two jobs, one fault), on this class's app."""
        argv = ["--pushed", str(site.home), "--jobs", "2", "--scenario", "database-kill", "--json"]
        assert bench.main(argv) == 0
        report = json.loads(capsys.readouterr().out)
        assert bench_keys.missing_keys(report, bench_keys.keys_of("bench.faults --json")) == []
        assert [row["lost"] for row in report["rows"]] == [0]
        assert (site.root / "app.json").exists()  # left in place


class TestBrokerFaults:
    """Faults of the broker and of the links to it, on an app of their own."""

    @pytest.mark.parametrize("scenario", GROUPS["broker"])
    def test_no_job_is_lost_and_jobs_run_again_soon(self, site, scenario):
        check_scenario(site, scenario)

    def test_sigterm_undoes_a_partition_in_the_namespaces(self, site):
        sigterm_undoes_a_partition(site)


class TestDatabaseFaults:
    """Faults of the database and of the link to it, and a redeploy, on an app of their own."""

    @pytest.mark.parametrize("scenario", GROUPS["database"])
    def test_no_job_is_lost_and_jobs_run_again_soon(self, site, scenario):
        check_scenario(site, scenario)


class TestMysqlRedisFaults:
    """The database's and the broker's servers killed, on an app on MySQL and Redis."""

    KINDS = dict(bench.SCENARIOS["redis-kill"].kinds)

    @pytest.mark.parametrize("scenario", GROUPS["kinds"])
    def test_no_job_is_lost_and_jobs_run_again_soon(self, site, scenario):
        check_scenario(site, scenario)


class TestClusterFaults:
    """A node of a 3-node RabbitMQ cluster killed, cut off, and every node restarted in turn,
    and a job whose pool process dies at each run, on an app of their own (its broker
    ``instances: 3``)."""

    BROKER_NODES = 3

    @pytest.mark.parametrize("scenario", GROUPS["cluster"])
    def test_no_job_is_lost_and_jobs_run_again_soon(self, site, scenario):
        check_scenario(site, scenario)
        for node in ("broker-1", "broker-2"):
            netns = sites.endpoint(site.root, f"services-{node}").netns
            assert "platform_sim-fault" not in rules(netns)

    def test_the_app_is_given_every_node(self, site):
        environment = json.loads(Path(site.instance("workers")["environment"]).read_text())
        urls = environment["DOTCLOUD_BROKER_AMQP_URLS"].split(";")
        assert len(urls) == 3
        assert urls[0] == environment["DOTCLOUD_BROKER_AMQP_URL"]


def sigterm_undoes_a_partition(site) -> None:
    """SIGTERM to a process holding a partition: its Faults block undoes the rules, then it ends."""
    workers, broker = site.host("workers"), site.host("broker")
    script = (
        "import sys, time\n"
        "from platform_sim.faults.inject import Endpoint, Faults\n"
        "a, b = Endpoint(*sys.argv[1:3]), Endpoint(*sys.argv[3:5])\n"
        "with Faults() as faults:\n"
        "    faults.partition(a, b, 'workers | broker')\n"
        "    print('injected', flush=True)\n"
        "    time.sleep(120)\n"
    )
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            script,
            workers.netns,
            workers.address,
            broker.netns,
            broker.address,
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "injected"
        assert "platform_sim-fault" in rules(workers.netns)
        assert "platform_sim-fault" in rules(broker.netns)
        child.send_signal(signal.SIGTERM)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert "platform_sim-fault" not in rules(workers.netns) + rules(broker.netns)
    assert child.returncode != 0  # Interrupted: the block undid its faults, then ended it
