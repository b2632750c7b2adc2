"""Day-two operations with fakes: change-then-redeploy (and undo), instance lookup and its
messages, the info table, the run wrapper, the instance's supervisorctl."""

import subprocess

import pytest

from platform_sim.appfile import buildfile
from platform_sim.appfile.environment import process_environment
from platform_sim.apps import AppPaths, AppRecord
from platform_sim.context import Context
from platform_sim.errors import NotDeployed, StepFailed, UsageError
from platform_sim.hosts.instance import Instance, supervisorctl_script
from platform_sim.ops import info_table
from platform_sim.ops.run_command import AS_CHILD
from platform_sim.ops.status import InstanceStatus
from platform_sim.output import QuietPrinter
from platform_sim.release.redeploy import RedeployReport, apply
from platform_sim.release.targets import Deployed, Ref

BUILD_FILE = """
www: {type: python, instances: 2}
workers: {type: python-worker}
db: {type: postgresql}
"""


def context(tmp_path):
    return Context(AppPaths(tmp_path / "app"), QuietPrinter(), None, None, None, None, None)


def deployed_record(ctx, **fields):
    ctx.paths.root.mkdir(parents=True, exist_ok=True)
    record = AppRecord(name="app", current={"generation": 4, "revision": 2, "instances": []})
    for key, value in fields.items():
        setattr(record, key, value)
    record.save(ctx.paths)
    return record


class FakeDeploy:
    """Records what it was asked to deploy; fails when told to."""

    def __init__(self, error=None):
        self.error = error
        self.calls = []

    def __call__(self, ctx, record, revision, reason):
        self.calls.append((dict(record.variables), dict(record.scale), revision, reason))
        if self.error:
            raise self.error
        return RedeployReport("app", revision, 5, {})


def test_a_change_is_stored_then_redeployed(tmp_path):
    ctx = context(tmp_path)
    deployed_record(ctx, variables={"A": "1"})
    deploy = FakeDeploy()
    report = apply(ctx, lambda r: r.variables.update(B="2"), reason="Setting B", deploy=deploy)
    assert report.generation == 5
    assert deploy.calls == [({"A": "1", "B": "2"}, {}, 2, "Setting B")]
    assert AppRecord.load(ctx.paths).variables == {"A": "1", "B": "2"}


def test_a_failed_redeploy_undoes_the_change(tmp_path):
    ctx = context(tmp_path)
    deployed_record(ctx, variables={"A": "1"}, scale={"www": 2})
    deploy = FakeDeploy(StepFailed("www.0", "postinstall", 1, "boom"))

    def change(record):
        record.variables["A"] = "changed"
        record.scale["www"] = 3

    with pytest.raises(StepFailed):
        apply(ctx, change, reason="Scaling www to 3", deploy=deploy)
    stored = AppRecord.load(ctx.paths)
    assert (stored.variables, stored.scale) == ({"A": "1"}, {"www": 2})
    assert ctx.printer.lines[-1] == (
        "-----> Not applied (Scaling www to 3); the previous deploy keeps serving"
    )


def test_a_rollback_deploys_the_revision_asked_for(tmp_path):
    ctx = context(tmp_path)
    deployed_record(ctx)
    deploy = FakeDeploy()
    apply(ctx, None, reason="Deploying revision 1", revision=1, deploy=deploy)
    assert deploy.calls[0][2] == 1


def test_variables_of_an_app_never_pushed_are_only_stored(tmp_path):
    ctx = context(tmp_path)
    deploy = FakeDeploy()
    report = apply(
        ctx, lambda r: r.variables.update(K="v"), reason="x", store_if_new=True, deploy=deploy
    )
    assert report is None and deploy.calls == []
    assert AppRecord.load(ctx.paths).variables == {"K": "v"}


def test_other_changes_need_a_pushed_app_and_create_nothing(tmp_path):
    ctx = context(tmp_path)
    with pytest.raises(NotDeployed, match="'app' has never been pushed.*push it first"):
        apply(ctx, None, reason="x", deploy=FakeDeploy())
    assert not ctx.paths.root.exists()


def instances(home, *labels):
    found = []
    for label in labels:
        service, number = label.split(".")
        found.append(
            Instance("app", service, "python", int(number), 4, home / label, home, 1, "pw")
        )
    return found


@pytest.fixture
def deployed(tmp_path):
    parsed = buildfile.parse(BUILD_FILE)
    record = AppRecord(name="app", current={"generation": 4, "revision": 2, "instances": []})
    return Deployed(
        AppPaths(tmp_path / "app"),
        record,
        parsed,
        instances(tmp_path, "www.0", "www.1", "workers.0"),
    )


def test_instance_lookup(deployed):
    assert [i.label for i in deployed.instances_of(Ref("www"))] == ["www.0", "www.1"]
    assert deployed.one_instance(Ref("www", 1), "run").label == "www.1"
    assert deployed.one_instance(Ref("workers"), "run").label == "workers.0"
    assert (deployed.generation, deployed.revision) == (4, 2)


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        (Ref("www"), "www has 2 instances (www.0, www.1): name one, e.g. run www.0"),
        (Ref("www", 2), "no instance www.2 in 'app': www has www.0, www.1"),
        (Ref("cache"), "no service 'cache' in application 'app': it has www, workers, db"),
        (Ref("db"), "db is a postgresql data service: it has no code instances"),
    ],
)
def test_instance_lookup_messages(deployed, ref, message):
    with pytest.raises(UsageError) as caught:
        deployed.one_instance(ref, "run")
    assert str(caught.value).startswith(message)


INFO = {
    "app": "soup",
    "url": "http://127.0.0.1:8000/",
    "revision": 3,
    "deploy": 7,
    "state": "/state/soup",
    "variables": {"SECRET": "x", "A": "1"},
    "scale": {"workers": 2},
    "revisions": [{"revision": 2, "current": False}, {"revision": 3, "current": True}],
    "addons": {},
    "services": {
        "www": {
            "type": "python",
            "url": "http://127.0.0.1:8000/",
            "instances": [
                {
                    "id": 0,
                    "status": "running",
                    "url": "http://127.0.0.1:9001/",
                    "programs": {"gunicorn": "RUNNING", "nginx": "RUNNING"},
                    "admin_password_file": "/state/soup/data/www.0/admin-password",
                }
            ],
        },
        "db": {
            "type": "postgresql",
            "instances": [
                {
                    "id": 0,
                    "status": "running",
                    "host": "127.0.0.1",
                    "port": 5433,
                    "login": "root",
                    "url": "pgsql://root:pw@127.0.0.1:5433",
                }
            ],
        },
    },
}


def test_info_for_people_is_a_table_then_the_details():
    lines = info_table.as_text(INFO).splitlines()
    assert lines[:3] == [
        "application soup: revision 3, deploy 7",
        "url: http://127.0.0.1:8000/",
        "state: /state/soup",
    ]
    assert lines[4:7] == [
        "INSTANCE  TYPE        STATUS   ADDRESS                 PROGRAMS / LOGIN",
        "www.0     python      running  http://127.0.0.1:9001/  gunicorn RUNNING, nginx RUNNING",
        "db.0      postgresql  running  127.0.0.1:5433          login root",
    ]
    text = "\n".join(lines)
    assert "credentials:\n  db  pgsql://root:pw@127.0.0.1:5433" in text
    assert "admin: user admin, password in /state/soup/data/www.0/admin-password" in text
    assert lines[-3:] == [
        "variables: A, SECRET",
        "scale: workers=2",
        "revisions: 2, 3*   (* serving)",
    ]


def test_status_lines():
    assert str(InstanceStatus("www.0", True, "nginx RUNNING")) == "www.0: up (nginx RUNNING)"
    assert str(InstanceStatus("db.0", False, "stopped")) == "db.0: down (stopped)"


@pytest.mark.parametrize(("command", "status"), [("exit 5", 5), ("true", 0), ("kill -9 $$", 137)])
def test_run_keeps_a_shell_as_first_process_and_returns_the_command_status(command, status):
    assert subprocess.call([*AS_CHILD, "sh", "-c", command]) == status


def test_the_instance_supervisorctl_talks_to_its_own_supervisord():
    script = supervisorctl_script("/opt/py")
    assert script.startswith("#!/bin/sh\n")
    assert script.splitlines()[-1] == (
        "exec /opt/py -I -m supervisor.supervisorctl "
        '-c /home/dotcloud/platform/supervisord.conf "$@"'
    )
    path = process_environment({}, home="/home/dotcloud")["PATH"].split(":")
    assert path[:3] == ["/home/dotcloud/env/bin", "/home/dotcloud/platform/bin", "/usr/local/sbin"]
