"""bin/bootstrap against fake Debian tools: what it installs; no service starts meanwhile."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NEW_PACKAGES = ["redis-server", "mariadb-server", "default-libmysqlclient-dev", "pkg-config", "gcc"]


def fake(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)


@pytest.fixture
def machine(tmp_path):
    """A copy of the repository's bootstrap inputs and fake dpkg-query, apt-get, pip, uv."""
    repo = tmp_path / "repo"
    (repo / "bin").mkdir(parents=True)
    for name in ("requirements.txt", "requirements-dev.txt", "pyproject.toml"):
        shutil.copy(REPO / name, repo / name)
    shutil.copy(REPO / "bin" / "bootstrap", repo / "bin" / "bootstrap")
    venv_bin = repo / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    fake(venv_bin, "python", 'echo "$*" >> "$LOG_DIR/pip"')
    fake(venv_bin, "uv", 'echo "uv $*" >> "$LOG_DIR/pip"')
    tools = tmp_path / "tools"
    tools.mkdir()
    fake(tools, "id", "echo 0")  # as root: no sudo
    # installed unless named in $MISSING
    fake(
        tools,
        "dpkg-query",
        'for last; do :; done; case " $MISSING " in *" $last "*) exit 1;; esac; '
        'printf "install ok installed"',
    )
    fake(
        tools,
        "apt-get",
        'echo "$*" >> "$LOG_DIR/apt-get"; '
        'if [ -x "$MINESTRONE_POLICY_RC_D" ]; then "$MINESTRONE_POLICY_RC_D"; '
        'echo "policy says $?" >> "$LOG_DIR/apt-get"; fi',
    )
    logs = tmp_path / "logs"
    logs.mkdir()
    return repo, tools, logs


def bootstrap(machine, missing, policy):
    repo, tools, logs = machine
    env = {
        "PATH": f"{tools}{os.pathsep}/usr/bin:/bin",
        "MISSING": " ".join(missing),
        "LOG_DIR": str(logs),
        "MINESTRONE_POLICY_RC_D": str(policy),
        "HOME": str(repo),
    }
    result = subprocess.run(
        ["bash", str(repo / "bin" / "bootstrap")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    apt = logs / "apt-get"
    return result.stdout, apt.read_text().splitlines() if apt.exists() else []


def test_the_new_servers_and_mysqlclients_build_dependencies_install_without_starting(
    machine, tmp_path
):
    policy = tmp_path / "policy-rc.d"
    out, apt = bootstrap(machine, NEW_PACKAGES, policy)
    install = next(line for line in apt if line.startswith("install"))
    assert install.split()[-len(NEW_PACKAGES) :] == NEW_PACKAGES
    assert "policy says 101" in apt  # no service may start while the packages install
    assert not policy.exists()  # and the machine's own policy is back as it was
    assert "installing Debian packages: redis-server mariadb-server" in out


def test_a_policy_already_there_is_left_alone(machine, tmp_path):
    policy = tmp_path / "policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 0\n")
    policy.chmod(0o755)
    _, apt = bootstrap(machine, ["redis-server"], policy)
    assert "policy says 0" in apt
    assert policy.read_text() == "#!/bin/sh\nexit 0\n"


def test_nothing_missing_installs_nothing(machine, tmp_path):
    out, apt = bootstrap(machine, [], tmp_path / "policy-rc.d")
    assert apt == []
    assert "bootstrap: ready" in out


def test_the_app_requirements_name_the_new_drivers():
    requirements = (REPO / "requirements.txt").read_text().splitlines()
    names = {line.split(">")[0].split("=")[0].strip() for line in requirements}
    assert {"redis", "mysqlclient"} <= names
