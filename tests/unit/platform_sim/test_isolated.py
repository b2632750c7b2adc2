"""The platform's own programs run the platform's code, never a copy in the app's folders."""

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from platform_sim import isolated
from platform_sim.appfile.buildfile import Service
from platform_sim.containers import entry, images
from platform_sim.hosts import instance
from platform_sim.hosts.router import Router
from platform_sim.render import supervisor

PLANTED = "import os, sys; print('PLANTED', __name__, os.getuid(), file=sys.stderr)\n"


@pytest.fixture
def app_tree(tmp_path):
    """An app's folder holding its own platform_sim, json.py, yaml.py and supervisor."""
    for name in ("platform_sim/__init__.py", "platform_sim/render/confcheck.py",
                 "platform_sim/hosts/keeper.py", "json.py", "yaml.py", "supervisor/__init__.py",
                 "machine/__init__.py", "machine/executor.py"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(PLANTED)
    return tmp_path


def run_in(folder, argv):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(folder), "PYTHONUSERBASE": str(folder)}
    return subprocess.run(argv, cwd=folder, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("module", "args", "status"),
    [("platform_sim.render.confcheck", [], 2), ("platform_sim.hosts.keeper", ["name"], 2)],
)
def test_a_platform_module_run_in_an_apps_folder_is_the_platforms(app_tree, module, args, status):
    result = run_in(app_tree, isolated.command(sys.executable, module, *args))
    assert "PLANTED" not in result.stdout + result.stderr
    assert result.returncode == status, result.stderr  # the platform's usage error


def test_the_same_module_run_with_python_m_would_have_been_the_apps(app_tree):
    result = run_in(app_tree, [sys.executable, "-m", "platform_sim.render.confcheck"])
    assert "PLANTED platform_sim" in result.stderr  # what the isolation prevents


def test_every_platform_program_is_started_isolated(tmp_path):
    assert images.entrypoint()[:4] == [
        "/usr/bin/python3", "-I", "-u", "/opt/minestrone-platform/platform_sim/isolated.py"
    ]
    assert "-I" in instance.supervisord_command()
    watchdog = supervisor.render_watchdog("/usr/bin/python3", "/home/dotcloud")
    assert f"/usr/bin/python3 -I -u {isolated.LAUNCHER} platform_sim.hosts.watchdog" in watchdog
    assert "PYTHONPATH" not in watchdog
    router = Router(tmp_path, "soup", None, python="/usr/bin/python3")
    assert router._kept("x", ["nginx"])[:3] == ["/usr/bin/python3", "-I", "-u"]
    (tmp_path / "home").mkdir()
    described = {"app": "a", "service": "w", "type": "python-worker", "processes": {},
                 "wsgi_processes": 1}
    conf = entry.lay_out(tmp_path / "home", described, {}, log_dirs=())
    text = Path(conf).read_text()
    follower = next(line for line in text.splitlines() if "log_relay" in line)
    assert shlex.split(follower.split("=", 1)[1])[:3] == ["/usr/bin/python3", "-I", "-u"]


def test_the_code_image_starts_in_a_folder_of_roots(tmp_path):
    service = Service(name="www", type="python")
    text = images.render_containerfile("soup", service, "base", "", [])
    assert "\nWORKDIR /\n" in text
    assert f"ENTRYPOINT {json.dumps(images.entrypoint())}" in text
