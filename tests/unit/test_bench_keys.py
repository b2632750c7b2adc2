"""The README's list of the keys each benchmark prints: one row per bench module that has a
command, read back as the suite's tiny runs check it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import bench_keys

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_every_bench_command_has_its_keys_in_the_readme():
    commands = {p.stem for p in BENCH.glob("*.py") if "def main(" in p.read_text()}
    rows = {bench.split()[0].removeprefix("bench.") for bench in bench_keys.documented()}
    assert commands == rows
    assert all(bench_keys.documented().values())


def test_nested_keys_and_lists_are_checked():
    report = {"a": 1, "live": {"lag": 0.1}, "rows": [{"lost": 0}, {"lost": None, "why": "x"}]}
    assert bench_keys.missing_keys(report, ["a", "live.lag", "rows[].lost"]) == []
    assert bench_keys.missing_keys(report, ["b", "live.x", "rows[].why", "a.b"]) == [
        "b",
        "live.x",
        "rows[].why",
        "a.b",
    ]


def test_an_unknown_bench_row_is_named():
    with pytest.raises(KeyError, match="bench.nothing"):
        bench_keys.keys_of("bench.nothing")
