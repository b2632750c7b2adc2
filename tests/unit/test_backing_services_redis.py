"""Redis without a server: its configuration file, start failures, port refusal, URLs."""

import hashlib
import socket
import time
from pathlib import Path

import pytest

from backing_services.errors import PortInUse, ServiceStartError
from backing_services.redis import LocalRedis
from backing_services.redis_config import render_config
from tests.pace import quick

ROOT = Path("/srv/redis")


def settings(text):
    return [line.split(" ", 1) for line in text.splitlines()]


def test_the_default_user_needs_the_password_and_only_its_hash_is_written():
    text = render_config(ROOT, 6390, "s3cret-_x")
    digest = hashlib.sha256(b"s3cret-_x").hexdigest()
    assert f"user default on #{digest} ~* &* +@all\n" in text
    assert "s3cret" not in text
    assert "nopass" not in text
    assert "requirepass" not in text


def test_it_listens_where_told_and_keeps_its_data_in_its_directory():
    text = render_config(ROOT, 6390, "pw", host="198.18.0.5")
    assert ["bind", "198.18.0.5"] in settings(text)
    assert ["port", "6390"] in settings(text)
    assert ["dir", "/srv/redis"] in settings(text)
    assert ["daemonize", "no"] in settings(text)


@pytest.mark.parametrize("appendfsync", ["always", "everysec"])
def test_every_write_goes_to_the_append_only_file(appendfsync):
    text = render_config(ROOT, 6390, "pw", appendfsync=appendfsync)
    assert ["appendonly", "yes"] in settings(text)
    assert ["appendfsync", appendfsync] in settings(text)
    assert ["save", '""'] in settings(text)


def test_the_default_is_a_sync_at_every_write():
    assert ["appendfsync", "always"] in settings(render_config(ROOT, 6390, "pw"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"password": ""}, "cannot be empty"),
        ({"appendfsync": "no"}, "appendfsync must be one of always, everysec"),
        ({"host": "1.2.3.4 5.6.7.8"}, "unusable Redis address"),
        ({"directory": Path("/tmp/has space")}, "unusable Redis directory"),
    ],
)
def test_values_it_cannot_write_are_refused(kwargs, message):
    arguments = {"directory": ROOT, "port": 6390, "password": "pw", **kwargs}
    with pytest.raises(ValueError, match=message):
        render_config(**arguments)


def fake_redis(tmp_path, body):
    program = tmp_path / "bin" / "redis-server"
    program.parent.mkdir()
    program.write_text(f"#!/bin/sh\n{body}\n")
    program.chmod(0o755)
    return program


def test_a_server_that_dies_at_once_reports_its_log_quickly(tmp_path):
    program = fake_redis(tmp_path, "echo 'FATAL CONFIG FILE ERROR'; exit 1")
    server = LocalRedis(program=program, start_timeout=120)
    started = time.monotonic()
    with pytest.raises(ServiceStartError) as caught:
        server.start()
    assert time.monotonic() - started < quick(5, timeout=120)
    assert "Redis exited while starting" in str(caught.value)
    assert "FATAL CONFIG FILE ERROR" in str(caught.value)
    assert server.directory is None


def test_the_server_reads_our_config_and_a_kept_directory_keeps_the_password(tmp_path):
    program = fake_redis(tmp_path, 'echo "config=$1"; exit 1')
    first = LocalRedis(tmp_path / "data", program=program)
    with pytest.raises(ServiceStartError) as caught:
        first.start()
    assert f"config={tmp_path / 'data' / 'redis.conf'}" in caught.value.log_tail
    assert (tmp_path / "data" / "redis.conf").stat().st_mode & 0o077 == 0
    second = LocalRedis(tmp_path / "data", program=program)
    with pytest.raises(ServiceStartError):
        second.start()
    assert second.password == first.password


def test_a_taken_port_is_refused_before_anything_runs(tmp_path):
    program = fake_redis(tmp_path, "exit 1")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        server = LocalRedis(tmp_path / "data", port=port, program=program)
        with pytest.raises(PortInUse, match=f"Redis: port {port}"):
            server.start()
    assert not (tmp_path / "data" / "redis.log").exists()


def test_database_urls():
    server = LocalRedis()
    server.password, server.port = "p@ss", 6390
    assert server.url == "redis://:p%40ss@127.0.0.1:6390/0"
    assert server.db_url(7) == "redis://:p%40ss@127.0.0.1:6390/7"
