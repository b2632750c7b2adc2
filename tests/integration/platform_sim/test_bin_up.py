"""The README's "run the app" command: `bin/up` pushes this repository and says how to log in."""

import os
import re
import subprocess
from pathlib import Path

import pytest

from .conftest import REPO, get, info, leftover_processes, run_cli

pytestmark = pytest.mark.integration
APP = "upcheck"


def test_bin_up_brings_the_app_up_and_says_where_the_admin_password_is(sim_home):
    env = {**os.environ, "PLATFORM_SIM_HOME": str(sim_home), "MINESTRONE_APP": APP}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [str(REPO / "bin" / "up")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    url = info(sim_home, APP)["url"]
    assert f"minestrone is up at {url}" in result.stdout
    where = re.search(r"password:\s+in (\S+) \(mode 600", result.stdout)
    assert where, result.stdout[-2000:]
    secret_file = Path(where.group(1))
    # one path, named once (not the instance's own path, nor platform_sim's again)
    named = re.findall(r"\S*admin-password\S*", result.stdout + result.stderr)
    assert named == [str(secret_file)], named
    password = secret_file.read_text().strip()
    assert len(password) >= 16
    assert password not in result.stdout + result.stderr  # never in a log
    assert secret_file.stat().st_mode & 0o777 == 0o600

    status, body = get(url)
    assert status == 200
    assert 'name="routing_key_name"' in body

    # run again: the secret key is kept and the app redeploys
    variables = run_cli(sim_home, "-A", APP, "env", "list", check=True).stdout
    assert re.search(r"^DJANGO_SECRET_KEY=[\w-]{60,}$", variables, re.MULTILINE), variables
    again = subprocess.run(
        [str(REPO / "bin" / "up")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert run_cli(sim_home, "-A", APP, "env", "list", check=True).stdout == variables
    assert get(info(sim_home, APP)["url"])[0] == 200

    run_cli(sim_home, "-A", APP, "destroy", "-y", check=True)
    assert leftover_processes(sim_home) == []
