"""The alert rules and the Grafana dashboard in monitoring/: promtool accepts the rules and
proves them on recorded series; every query names metrics that /monitor/metrics exports."""

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from minestrone.monitor import metrics
from minestrone.monitor.models import TaskState, WorkerState
from minestrone.monitor.queue_depth import MANAGEMENT_API, BrokerNode, QueueDepth, QueueDepths
from tests.unit.monitor.tasks import record

MONITORING = Path(__file__).resolve().parents[2] / "monitoring"
RULES = MONITORING / "alerts.yml"
DASHBOARD = MONITORING / "grafana-dashboard.json"
METRIC = re.compile(r"\bminestrone_[a-z_]+")


@pytest.fixture
def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:  # never a skip: the rules would go untested
        pytest.fail("promtool is missing: bin/bootstrap installs Debian's prometheus package")
    return found


def run(*args: str) -> str:
    done = subprocess.run(args, cwd=MONITORING, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def dashboard_queries() -> list[str]:
    board = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in board["panels"] for target in panel["targets"]]


def test_promtool_accepts_the_rules(promtool):
    assert "SUCCESS: 11 rules found" in run(promtool, "check", "rules", RULES.name)


def test_promtool_proves_each_alert_fires_and_stays_quiet(promtool):
    run(promtool, "test", "rules", "alerts_test.yml")
    tested = yaml.safe_load((MONITORING / "alerts_test.yml").read_text())
    names = {case["alertname"] for test in tested["tests"] for case in test["alert_rule_test"]}
    rules = yaml.safe_load(RULES.read_text())["groups"][0]["rules"]
    assert names == {rule["alert"] for rule in rules}  # every alert has its test


def test_the_dashboards_queries_are_valid_promql(promtool, tmp_path):
    queries = dashboard_queries()
    assert len(queries) >= 10
    as_rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [{"record": f"q{n}", "expr": expr} for n, expr in enumerate(queries)],
            }
        ]
    }
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump(as_rules))
    run(promtool, "check", "rules", str(path))


@pytest.mark.django_db
def test_every_metric_named_is_exported():
    now = datetime.now(UTC)
    record("a", "SUCCESS", now - timedelta(minutes=1), runtime=0.5)
    TaskState.objects.update(sent=now - timedelta(minutes=2), started=now - timedelta(minutes=1))
    WorkerState.objects.create(hostname="w1", last_heartbeat=now, heartbeat_expires=now, active=1)
    node = "rabbit@broker-0"
    depths = QueueDepths(
        [QueueDepth("default", 1, 1, unacked=0, leader=node, members=(node,), online=(node,))],
        MANAGEMENT_API,
        nodes=(BrokerNode(node, True),),
    )
    text = metrics.render(now, depths=lambda: depths).decode()
    exported = set(re.findall(r"^(minestrone_[a-z_]+)", text, re.MULTILINE))
    named = set(METRIC.findall(RULES.read_text())) | {
        name for query in dashboard_queries() for name in METRIC.findall(query)
    }
    assert named and named <= exported, named - exported
