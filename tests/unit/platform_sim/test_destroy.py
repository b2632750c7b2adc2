"""destroy's search for process records: only where platform_sim writes them, well-formed,
and only processes that are ours."""

import json
import os

from platform_sim.apps import AppPaths
from platform_sim.context import Context
from platform_sim.hosts.processes import Handle
from platform_sim.output import QuietPrinter
from platform_sim.release import destroy


class FakeTable:
    """Every recorded process is alive; remembers what it was asked to stop."""

    def __init__(self):
        self.stopped = []

    def alive(self, handle):
        return True

    def stop_namespace(self, handle, grace):
        self.stopped.append(handle)


def context(tmp_path):
    return Context(AppPaths(tmp_path / "app"), QuietPrinter(), FakeTable(), None, None, None, None)


def record(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data))


def test_only_the_places_platform_sim_writes_are_searched(tmp_path):
    root = tmp_path / "app"
    for user_file in (
        "revisions/1/code/cfg/pid.json",
        "deploys/3/www.0/code/pid.json",
        "deploys/3/www.0/code/platform/pid.json",
        "data/www.0/pid.json",
        "tmp/pid.json",
    ):
        record(root / user_file, {"name": "x"})
    ours = [
        "router/pid.json",
        "deploys/3/www.0/platform/pid.json",
        "addons/cloudamqp/pid.json",
        "services/db/pid.json",
    ]
    for place in ours:
        record(root / place, {"pid": 5, "started": 7})
    found = [str(path.relative_to(root)) for path in destroy.process_files(root)]
    assert found == ours


def test_a_malformed_record_is_skipped_with_a_warning(tmp_path, monkeypatch):
    ctx = context(tmp_path)
    monkeypatch.setattr(destroy, "is_namespace_leader", lambda pid: True)
    record(ctx.paths.router / "pid.json", {"name": "x"})
    record(ctx.paths.service("db") / "pid.json", "{not json")
    record(ctx.paths.service("mq") / "pid.json", {"pid": 1, "started": 30})
    record(ctx.paths.service("pg") / "pid.json", {"pid": "12", "started": 30})
    record(ctx.paths.deploy(2) / "www.0" / "platform" / "pid.json", {"pid": 4242, "started": 9})
    assert destroy.stop_everything(ctx) == 1
    assert ctx.table.stopped == [Handle(4242, 9)]
    warnings = [line for line in ctx.printer.lines if line.startswith("warning:")]
    assert len(warnings) == 4
    assert "router/pid.json is not a process record of platform_sim" in warnings[0]


def test_a_live_process_that_is_not_an_unshare_is_left_alone(tmp_path):
    ctx = context(tmp_path)
    record(ctx.paths.router / "pid.json", {"pid": os.getpid(), "started": 1})
    assert destroy.stop_everything(ctx) == 0
    assert ctx.table.stopped == []
    assert not destroy.is_namespace_leader(os.getpid())
