"""Redis and MySQL (MariaDB) data services, on real servers: pushed beside the tiny app's
PostgreSQL, listed by ``info``, named in every instance's environment as the platform named
them, logged in to with their generated passwords, healed with their data after a SIGKILL found
through their kind, and gone after ``destroy``."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import MySQLdb
import pytest
import redis

from platform_sim.faults import sites
from platform_sim.faults.inject import Faults
from platform_sim.hosts.network import Network
from platform_sim.hosts.processes import Handle
from tests.pace import within

from .conftest import info, leftover_processes, run_cli, wait_for

pytestmark = pytest.mark.integration
APP = "kinds"
BACK_WITHIN = within(30.0)  # a killed server answers again, its data kept, with no redeploy
SERVICES = {"cache": ("redis", "REDIS"), "mydb": ("mysql", "MYSQL")}


def variables(environment: dict, name: str) -> dict:
    """The ``DOTCLOUD_<NAME>_<TAG>_*`` variables of one data service, by suffix."""
    prefix = f"DOTCLOUD_{name.upper()}_{SERVICES[name][1]}_"
    return {k[len(prefix) :]: v for k, v in environment.items() if k.startswith(prefix)}


def redis_round_trip(found: dict, key: str, value: str | None) -> str | None:
    """Log in with the URL the app gets; SET ``key`` to ``value`` (if given), then GET it."""
    with contextlib.closing(redis.Redis.from_url(found["URL"], socket_timeout=5)) as client:
        if value is not None:
            client.set(key, value)
        stored = client.get(key)
    return stored.decode() if stored is not None else None


def mysql_round_trip(found: dict, value: str | None) -> str | None:
    """Log in as the app's account to its database; store ``value`` (if given), read it back."""
    connection = MySQLdb.connect(
        host=found["HOST"], port=int(found["PORT"]), user=found["LOGIN"],
        password=found["PASSWORD"], database=found["DATABASE"], connect_timeout=5,
    )
    with contextlib.closing(connection), connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS kept (value VARCHAR(64)) ENGINE=InnoDB")
        if value is not None:
            cursor.execute("INSERT INTO kept VALUES (%s)", (value,))
            connection.commit()
        cursor.execute("SELECT value FROM kept")
        rows = cursor.fetchall()
    return rows[0][0] if rows else None


def answers_again(check):
    """A predicate: ``check()``'s result once the server answers again, else None."""

    def probe():
        try:
            return check()
        except (redis.RedisError, MySQLdb.Error, OSError):
            return None

    return probe


def test_redis_and_mysql_are_pushed_reached_healed_and_destroyed(sim_home, folder):
    with open(folder / "dotcloud.yml", "a") as handle:
        handle.write("\ncache:\n  type: redis\n\nmydb:\n  type: mysql\n")
    run_cli(sim_home, "-A", APP, "push", str(folder), check=True)
    app_root = sim_home / APP

    described = info(sim_home, APP)["services"]
    for name, (kind, _) in SERVICES.items():
        assert described[name]["type"] == kind
        assert described[name]["instances"][0]["status"] == "running"
    status = run_cli(sim_home, "-A", APP, "status", check=True).stdout
    assert "cache.0: up (redis on " in status and "mydb.0: up (mysql on " in status
    entry = described["mydb"]["instances"][0]
    assert (entry["login"], entry["database"]) == ("app", "app")
    assert described["cache"]["instances"][0]["login"] == "default"

    www = next(i for i in info(sim_home, APP)["services"]["www"]["instances"] if i["id"] == 0)
    environment = json.loads(Path(www["environment"]).read_text())
    cache, mydb = variables(environment, "cache"), variables(environment, "mydb")
    assert set(cache) == {"HOST", "PORT", "LOGIN", "PASSWORD", "URL"}
    assert set(mydb) == {"HOST", "PORT", "LOGIN", "PASSWORD", "URL", "DATABASE"}
    for found in (cache, mydb):
        assert len(found["PASSWORD"]) >= 16  # generated
        assert found["HOST"] != "127.0.0.1"  # a host of its own on the app's bridge
    assert cache["URL"] == (
        f"redis://default:{cache['PASSWORD']}@{cache['HOST']}:{cache['PORT']}"
    )

    # no open account: without the password Redis refuses, and so does MariaDB
    anonymous = redis.Redis(host=cache["HOST"], port=int(cache["PORT"]), socket_timeout=5)
    with contextlib.closing(anonymous), pytest.raises(redis.AuthenticationError):
        anonymous.get("x")
    with pytest.raises(MySQLdb.OperationalError):
        MySQLdb.connect(host=mydb["HOST"], port=int(mydb["PORT"]), user="root", connect_timeout=5)

    assert redis_round_trip(cache, "soup", "kept") == "kept"
    assert mysql_round_trip(mydb, "kept") == "kept"

    # killed through the kind's own process (faults/sites.py), back by itself with its data
    with Faults(handle_signals=False) as faults:
        for name, (kind, _) in SERVICES.items():
            faults.kill(sites.server_main(app_root / "services" / name, kind), name)
    assert wait_for(
        answers_again(lambda: redis_round_trip(cache, "soup", None)), BACK_WITHIN, "Redis back"
    ) == "kept"
    assert wait_for(
        answers_again(lambda: mysql_round_trip(mydb, None)), BACK_WITHIN, "MariaDB back"
    ) == "kept"
    assert wait_for(
        lambda: all(
            entry["instances"][0]["status"] == "running"
            for name, entry in info(sim_home, APP)["services"].items()
            if name in SERVICES
        ),
        BACK_WITHIN,
        "info saying both run again",
    )

    handles = [json.loads(path.read_text()) for path in app_root.rglob("pid.json")]
    network = Network(app_root)
    run_cli(sim_home, "-A", APP, "destroy", "-y", check=True)
    assert not app_root.exists()
    assert not Path(f"/sys/class/net/{network.bridge}").exists()
    assert not [name for name in os.listdir("/run/netns") if name.startswith(f"ps{network.tag}-")]
    for handle in handles:
        assert not Handle.from_json(handle).alive()
    assert leftover_processes(sim_home) == []
