"""A code image holds all the platform code its entrypoint imports, and nothing of the host's."""

import subprocess
import sys

from platform_sim.appfile.buildfile import Service
from platform_sim.containers import images

IMPORTS = """
import sys
platform = sys.argv[1]
sys.path.insert(0, platform)
import platform_sim.containers.entry, platform_sim.hosts.keeper, platform_sim.hosts.watchdog
ours = [name for name in sys.modules if name.split(".")[0] in {"platform_sim", "machine"}]
outside = [name for name in ours if not sys.modules[name].__file__.startswith(platform + "/")]
assert "machine.executor" in ours, ours
assert not outside, outside
assert "backing_services" not in sys.modules
"""


def test_the_entrypoint_imports_only_what_the_image_holds(tmp_path):
    tree, context = tmp_path / "app", tmp_path / "context"
    tree.mkdir()
    context.mkdir()
    (tree / "wsgi.py").write_text("application = None\n")
    images.write_code_context(
        context, "soup", Service(name="www", type="python"), tree, "b", "", ["nginx"]
    )
    platform = context / "platform"
    assert sorted(path.name for path in platform.iterdir() if path.is_dir()) == [
        "machine", "platform_sim"
    ]
    result = subprocess.run(
        [sys.executable, "-I", "-c", IMPORTS, str(platform)],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
