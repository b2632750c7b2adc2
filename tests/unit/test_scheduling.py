"""pytest-xdist's units of work: whole modules or classes, the containers' tests as two (kube-
play's and the rest), long poles first (tests/scheduling.py)."""

import pytest

from tests import scheduling

FAULTS = "tests/integration/platform_sim/test_faults.py"


@pytest.mark.parametrize(
    ("nodeid", "unit"),
    [
        ("tests/integration/test_routing.py::test_a", "tests/integration/test_routing.py"),
        (f"{FAULTS}::TestBrokerFaults::test_x[broker-kill]", f"{FAULTS}::TestBrokerFaults"),
        (f"{FAULTS}::test_every_scenario_runs_in_exactly_one_group", FAULTS),
        (  # the kube-play runner's pods have fixed names: one kube-play unit
            "tests/integration/containers/test_kube_play.py::test_down_leaves_nothing",
            "tests/integration/containers/test_kube_play",
        ),
        (
            "tests/integration/containers/test_kube_play_bench.py::test_the_kube_play_bench",
            "tests/integration/containers/test_kube_play",
        ),
        (
            "tests/integration/containers/test_images.py::test_one[a::b]",
            "tests/integration/containers/",
        ),
        (  # builds images of its own: runs beside the shared unit, its classes together
            "tests/integration/containers/test_compose_pairs.py::TestMysqlRedis::test_story",
            "tests/integration/containers/test_compose_pairs.py",
        ),
        (  # after test_kube_play, in its unit
            "tests/integration/containers/test_kube_play_pairs.py::test_down_leaves_nothing",
            "tests/integration/containers/test_kube_play",
        ),
    ],
)
def test_units_are_modules_classes_or_the_shared_prefixes(nodeid, unit):
    assert scheduling.unit_of_work(nodeid) == unit


def test_long_poles_go_first_in_their_order_and_the_rest_keeps_its_own():
    ids = [
        "tests/integration/test_routing.py::test_a",
        f"{FAULTS}::TestWorkerFaults::test_x[worker-main-kill]",
        "tests/integration/test_database.py::test_b",
        "tests/integration/containers/test_images.py::test_c",
        f"{FAULTS}::TestBrokerFaults::test_x[broker-kill]",
    ]
    assert sorted(ids, key=scheduling.rank) == [ids[3], ids[4], ids[1], ids[0], ids[2]]


def test_every_long_pole_is_a_test_path():
    from pathlib import Path

    root = Path(scheduling.__file__).resolve().parents[1]
    for prefix in scheduling.LONG_POLES:
        assert (root / prefix.split("::")[0]).exists(), prefix
