"""How pytest-xdist shares the tests out (``--dist loadscope``): a module, or a class, goes whole
to one worker (its module- and class-scoped fixtures, such as a pushed app, are made once); the
tests that share the images built for the containers go as one unit; the long poles go first.
"""

from __future__ import annotations

import pytest

# Path prefixes whose tests go to one worker together, and why.
TOGETHER = {
    "tests/integration/containers/": "the images are built once, then used by every module",
}
# Modules under a TOGETHER prefix that build images of their own: units by themselves, so that
# they run beside the shared unit instead of after it.
APART = (
    "tests/integration/containers/test_compose_pairs.py",
    "tests/integration/containers/test_redis_mariadb_containers.py",
)
# Units of work measured longest (several minutes on 2 cores), longest first: started first so
# that none of them is left to run alone at the end. Anything else runs in collection order.
LONG_POLES = (
    "tests/integration/containers/test_compose_pairs.py",
    "tests/integration/containers/",
    "tests/integration/platform_sim/test_faults.py::TestBrokerFaults",
    "tests/integration/platform_sim/test_faults.py::TestDatabaseFaults",
    "tests/integration/platform_sim/test_faults.py::TestWorkerFaults",
    "tests/integration/platform_sim/test_faults.py::TestMysqlRedisFaults",
    "tests/integration/platform_sim/test_story_pairs.py",
    "tests/integration/platform_sim/test_tutorial_story.py",
    "tests/integration/platform_sim/test_minestrone.py",
    "tests/integration/platform_sim/test_healing.py",
    "tests/integration/platform_sim/test_bin_up.py",
    "tests/integration/platform_sim/test_day_two.py",
    "tests/integration/platform_sim/test_push.py",
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
