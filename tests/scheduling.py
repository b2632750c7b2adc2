"""How pytest-xdist shares the tests out (``--dist loadscope``): a module, or a class, goes whole
to one worker (its module- and class-scoped fixtures, such as a pushed app, are made once); the
container tests go as two units (kube-play's, and the rest); the long poles go first.
"""

from __future__ import annotations

import pytest

# Path prefixes whose tests go to one worker together (the first prefix that matches), and
# why. The two container units run side by side, each on the app's images (built under a lock:
# the second worker's build takes the first one's layers).
TOGETHER = {
    "tests/integration/containers/test_kube_play": "the kube-play runner's pods have fixed names:"
    " one kube-play at a time",
    "tests/integration/containers/": "the app's images, built once on the worker, then used by"
    " every module",
}
# Modules under a TOGETHER prefix that build images of their own: units by themselves, so that
# they run beside the shared units instead of after them.
APART = (
    "tests/integration/containers/test_compose_pairs.py",
    "tests/integration/containers/test_redis_mariadb_containers.py",
)
# Units of work measured longest (several minutes on 2 cores), longest first: started first so
# that none of them is left to run alone at the end. Anything else runs in collection order.
# The integration env's order is its units' times in a whole run (CI=true .ci/run, 2026-12-08,
# pace 1.7 to 3.2: 4,746 s of tests in 4 workers, 21 min).
LONG_POLES = (
    # the longest chain of the run: the session's images, then its tests one after the other.
    # Every module of the kube-play unit but the benchmark is listed here, so that the benchmark
    # runs last: by then the container benchmark has measured the cold push it takes
    # (tests/integration/containers/test_kube_play_bench.py); a new kube-play module goes here.
    "tests/integration/containers/test_kube_play.py",
    "tests/integration/containers/test_kube_play_cluster.py",
    "tests/integration/containers/test_kube_play_pairs.py",
    "tests/integration/containers/test_compose_pairs.py",
    "tests/integration/containers/",
    "tests/integration/platform_sim/test_faults.py::TestClusterFaults",  # 383 s
    "tests/integration/platform_sim/test_faults.py::TestBrokerFaults",  # 330 s
    "tests/integration/platform_sim/test_faults.py::TestDatabaseFaults",  # 280 s
    "tests/integration/platform_sim/test_tutorial_story.py",  # 266 s
    "tests/integration/platform_sim/test_minestrone.py",  # 265 s
    "tests/integration/platform_sim/test_rabbitmq_cluster.py",  # 241 s
    "tests/integration/platform_sim/test_day_two.py",  # 239 s
    "tests/integration/platform_sim/test_faults.py::TestWorkerFaults",  # 232 s
    "tests/integration/platform_sim/test_benches.py",  # 187 s
    "tests/integration/platform_sim/test_healing.py",  # 144 s
    "tests/integration/platform_sim/test_bin_up.py",  # 141 s
    "tests/integration/platform_sim/test_faults.py::TestMysqlRedisFaults",  # 138 s
    "tests/integration/platform_sim/test_story_pairs.py",  # 3 × 119 to 135 s
    "tests/integration/monitor/test_browser.py",  # 127 s
    "tests/integration/monitor/test_monitor_live.py",  # 112 s
    "tests/integration/test_backing_services.py",  # 107 s
    "tests/integration/platform_sim/test_verify_and_addons.py",  # 96 s
)


def unit_of_work(nodeid: str) -> str:
    """The unit a test is handed out with: its TOGETHER prefix, else its class or module."""
    if nodeid.startswith(APART):
        return nodeid.split("::", 1)[0]
    for prefix in TOGETHER:
        if nodeid.startswith(prefix):
            return prefix
    return nodeid.rsplit("::", 1)[0]


def rank(nodeid: str) -> int:
    """Where a test's unit starts: the long poles in their order, then everything else."""
    for number, prefix in enumerate(LONG_POLES):
        if nodeid.startswith(prefix):
            return number
    return len(LONG_POLES)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the long poles first (a stable sort: the rest keeps its order)."""
    items.sort(key=lambda item: rank(item.nodeid))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):  # noqa: ANN201 - xdist's type
    """Under ``--dist loadscope``: units as ``unit_of_work`` says, in collection order."""
    if config.getoption("dist", None) != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class Units(LoadScopeScheduling):
        """LoadScopeScheduling with our units, handed out in the order collected."""

        def _split_scope(self, nodeid: str) -> str:
            return unit_of_work(nodeid)

    config.option.loadscopereorder = False  # keep the long poles first
    return Units(config, log)
