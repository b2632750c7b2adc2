"""``verify`` (rehearsal in a throw-away copy) and the CloudAMQP add-on, for real."""

from __future__ import annotations

import ipaddress
import json
import re
import tempfile
from pathlib import Path

import amqp
import pytest

from .conftest import info, leftover_processes, run_cli, sed_get

pytestmark = pytest.mark.integration


def test_verify_passes_and_leaves_nothing_behind(sim_home, tinyapp):
    result = run_cli(sim_home, "verify", str(tinyapp))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verify [www] ok" in result.stdout
    assert "verify [workers] ok" in result.stdout
    assert "[workers.0] supervisor: configuration parses" in result.stdout
    assert list(sim_home.iterdir()) == []  # the real state was not touched
    assert leftover_processes(Path(tempfile.gettempdir()) / "platform_sim-verify-") == []
    assert not list(Path(tempfile.gettempdir()).glob("platform_sim-verify-*"))


def test_verify_reports_each_service_and_fails(sim_home, tinyapp):
    (tinyapp / "FAIL").touch()
    (tinyapp / "dotcloud.yml").write_text(
        (tinyapp / "dotcloud.yml").read_text().replace("python ticker.py", "no-such-program")
    )
    result = run_cli(sim_home, "verify", str(tinyapp))
    assert result.returncode == 1
    assert "verify [www] FAILED: [www.0] postinstall exited with status 3" in result.stdout
    assert "verify [workers] FAILED: [workers.0] postinstall exited with status 3" in result.stdout
    assert "postinstall: failing on purpose" in result.stdout
    (tinyapp / "FAIL").unlink()
    result = run_cli(sim_home, "verify", str(tinyapp))
    assert result.returncode == 1
    assert "verify [www] ok" in result.stdout
    assert "verify [workers] FAILED: [workers.0] supervisor configuration check" in result.stdout
    assert "program ticker: command 'no-such-program' does not resolve" in result.stdout
    assert not list(Path(tempfile.gettempdir()).glob("platform_sim-verify-*"))


def test_cloudamqp_addon_sets_application_variables(sim_home, tinyapp):
    added = run_cli(sim_home, "-A", "rabbit", "addon", "add", "cloudamqp", check=True)
    host = re.search(r"CLOUDAMQP_RABBITMQ_AMQP_HOST=(\S+)", added.stdout).group(1)
    assert ipaddress.ip_address(host) in ipaddress.ip_network("198.18.0.0/15")  # its own host
    run_cli(sim_home, "-A", "rabbit", "push", str(tinyapp), check=True)
    described = info(sim_home, "rabbit")
    addon = described["addons"]["cloudamqp"]
    assert addon["status"] == "running"
    environment = Path(described["services"]["www"]["instances"][0]["home"]) / "environment.json"
    values = {
        key: sed_get(environment, f"CLOUDAMQP_RABBITMQ_AMQP_{key}")
        for key in ("HOST", "PORT", "LOGIN", "PASSWORD", "VIRTUALHOST", "URL")
    }
    assert values["VIRTUALHOST"] == values["LOGIN"] == addon["login"]
    assert values["URL"] == (
        f"amqp://{values['LOGIN']}:{values['PASSWORD']}@{values['HOST']}:{values['PORT']}/"
        f"{values['VIRTUALHOST']}"
    )
    connection = amqp.Connection(
        host=f"{values['HOST']}:{values['PORT']}",
        userid=values["LOGIN"],
        password=values["PASSWORD"],
        virtual_host=values["VIRTUALHOST"],
        connect_timeout=5,
    )
    connection.connect()
    connection.close()
    # like CloudAMQP's, the add-on's broker holds the login's virtual host only (its first
    # boot made it, no `/`)
    default = amqp.Connection(
        host=f"{values['HOST']}:{values['PORT']}",
        userid=values["LOGIN"],
        password=values["PASSWORD"],
        virtual_host="/",
        connect_timeout=5,
    )
    with pytest.raises(amqp.exceptions.NotAllowed):
        default.connect()
    listed = run_cli(sim_home, "-A", "rabbit", "addon", "list", check=True)
    assert listed.stdout.startswith("cloudamqp: running")
    run_cli(sim_home, "-A", "rabbit", "addon", "remove", "cloudamqp", check=True)
    assert json.loads(run_cli(sim_home, "-A", "rabbit", "info", "--json").stdout)["addons"] == {}
    assert not (sim_home / "rabbit" / "addons" / "cloudamqp").exists()
    run_cli(sim_home, "-A", "rabbit", "destroy", "-y", check=True)
    assert leftover_processes(sim_home) == []
