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
# The integration env's order is its units' times in a run of that env alone on a busy machine
# (pace 2.3; 4,527 s of tests in 4 workers, 19 min 48 s).
LONG_POLES = (
    "tests/integration/containers/test_compose_pairs.py",
    "tests/integration/containers/",
    "tests/integration/platform_sim/test_faults.py::TestBrokerFaults",  # 360 s
    "tests/integration/platform_sim/test_tutorial_story.py",  # 348 s
    "tests/integration/platform_sim/test_faults.py::TestDatabaseFaults",  # 326 s
    "tests/integration/platform_sim/test_minestrone.py",  # 308 s
    "tests/integration/platform_sim/test_faults.py::TestClusterFaults",  # 300 s
    "tests/integration/platform_sim/test_day_two.py",  # 296 s
    "tests/integration/platform_sim/test_faults.py::TestWorkerFaults",  # 277 s
    "tests/integration/platform_sim/test_benches.py",  # 232 s
    "tests/integration/platform_sim/test_healing.py",  # 225 s
    "tests/integration/platform_sim/test_bin_up.py",  # 204 s
    "tests/integration/platform_sim/test_faults.py::TestMysqlRedisFaults",  # 202 s
    "tests/integration/platform_sim/test_rabbitmq_cluster.py",  # 160 s
    "tests/integration/platform_sim/test_story_pairs.py",  # 3 × 150 s
    "tests/integration/monitor/test_browser.py",  # 124 s
    "tests/integration/platform_sim/test_verify_and_addons.py",  # 115 s
    "tests/integration/platform_sim/test_push.py",  # 75 s
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
