"""Real local PostgreSQL and RabbitMQ servers: start, isolate, persist, fail loudly, clean up."""

import contextlib
import os
import re
import stat
import subprocess
import threading
import time

import amqp
import kombu
import psycopg2
import pytest

from backing_services import (
    LocalPostgres,
    LocalRabbitMQ,
    PortInUse,
    ServiceError,
    ServiceStartError,
)
from backing_services.process import pid_alive
from tests.integration import server_checks
from tests.integration.app_role import check_app_role
from tests.pace import quick

pytestmark = pytest.mark.integration
kept_dir = server_checks.kept_dir  # fixtures
listening_port = server_checks.listening_port


def query(url, sql, *params):
    with contextlib.closing(psycopg2.connect(url)) as conn, conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else None


def timed_start(server):
    started = time.monotonic()
    server.start()
    took = time.monotonic() - started
    print(f"\n{type(server).__name__} cold start: {took:.2f} s")
    return took


# PostgreSQL


def test_postgres_starts_answers_and_leaves_nothing_behind():
    server = LocalPostgres()
    try:
        timed_start(server)
        assert query(server.url, "SELECT 1") == [(1,)]
        assert query(server.url, "SELECT current_user") == [("root",)]
        pid, directory = server.pid, server.directory
        assert pid_alive(pid)
        assert server._ctl is None  # pg_ctl exited and was reaped: no zombie while serving
    finally:
        server.stop()
    assert not pid_alive(pid)
    assert not directory.exists()
    server.stop()


def test_postgres_refuses_a_wrong_password():
    with LocalPostgres() as server:
        wrong = server.url.replace(server.password, "not-the-password")
        with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
            psycopg2.connect(wrong)


def test_postgres_databases_are_isolated_and_creation_is_idempotent(postgres_server):
    first = postgres_server.create_database("iso_a")
    second = postgres_server.create_database("iso_b")
    try:
        assert postgres_server.create_database("iso_a") == first
        query(first, "CREATE TABLE only_in_a (n int)")
        assert query(first, "SELECT to_regclass('only_in_a') IS NOT NULL") == [(True,)]
        assert query(second, "SELECT to_regclass('only_in_a') IS NOT NULL") == [(False,)]
    finally:
        postgres_server.drop_database("iso_a")
        postgres_server.drop_database("iso_b")
    postgres_server.drop_database("iso_a")
    with pytest.raises(psycopg2.OperationalError, match="does not exist"):
        psycopg2.connect(first)


def test_postgres_racing_creators_all_get_the_database(postgres_server):
    urls, errors = [], []

    def create():
        try:
            urls.append(postgres_server.create_database("raced"))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert len(set(urls)) == 1 and len(urls) == 6
        assert query(urls[0], "SELECT current_database()") == [("raced",)]
    finally:
        postgres_server.drop_database("raced")


def test_postgres_database_fixture(postgres_database_url):
    [(name,)] = query(postgres_database_url, "SELECT current_database()")
    assert name.startswith("t_test_backing_services_")


def test_postgres_data_and_credentials_survive_a_restart(kept_dir):
    with LocalPostgres(kept_dir) as first:
        url = first.create_database("kept")
        query(url, "CREATE TABLE soup (name text)")
        query(url, "INSERT INTO soup VALUES (%s)", "minestrone")
        credentials, first_pid = (first.user, first.password), first.pid
    assert not pid_alive(first_pid)
    assert (kept_dir / "pgdata" / "PG_VERSION").exists()
    assert stat.S_IMODE((kept_dir / "service.json").stat().st_mode) == 0o600
    with LocalPostgres(kept_dir) as second:
        assert (second.user, second.password) == credentials
        assert query(second.database_url("kept"), "SELECT name FROM soup") == [("minestrone",)]


def test_postgres_that_dies_during_start_reports_its_log(kept_dir):
    with LocalPostgres(kept_dir):
        pass
    with open(kept_dir / "pgdata" / "postgresql.conf", "a") as conf:
        conf.write("\nthis line = is not ' valid\n")
    server = LocalPostgres(kept_dir, start_timeout=300)
    started = time.monotonic()
    with pytest.raises(ServiceStartError) as caught:
        server.start()
    assert time.monotonic() - started < quick(15, timeout=300)  # at once, not at the timeout
    assert "syntax error" in caught.value.log_tail
    assert "postgresql.conf" in str(caught.value)
    assert server._postmaster_pid() is None


def test_postgres_refuses_a_taken_port(listening_port):
    server = LocalPostgres(port=listening_port)
    with pytest.raises(PortInUse, match=str(listening_port)):
        server.start()
    assert server.directory is None


# RabbitMQ


def amqp_connection(url):
    return kombu.Connection(url, connect_timeout=5)


def listening_addresses(pids: set[int]) -> set[str]:
    """The TCP addresses these processes listen on, read from `ss -ltnp`."""
    output = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True, check=True).stdout
    found = set()
    for line in output.splitlines():
        owners = {int(pid) for pid in re.findall(r"pid=(\d+)", line)}
        if owners & pids:
            found.add(line.split()[3])
    return found


def test_rabbitmq_starts_answers_and_leaves_nothing_behind():
    server = LocalRabbitMQ()
    try:
        timed_start(server)
        with amqp_connection(server.url) as conn:
            conn.connect()
            assert conn.connected
        pids = [server.pid, server.beam_pid, server._epmd.pid]
        directory = server.directory
        assert all(pid_alive(pid) for pid in pids)
        # AMQP, the Erlang distribution port and epmd: loopback only
        addresses = listening_addresses({server.beam_pid, server._epmd.pid})
        assert len(addresses) >= 3, addresses
        assert {address.rsplit(":", 1)[0] for address in addresses} <= {"127.0.0.1", "[::1]"}, (
            addresses
        )
    finally:
        started = time.monotonic()
        server.stop()
        print(f"LocalRabbitMQ stop: {time.monotonic() - started:.2f} s")
    assert [pid for pid in pids if pid_alive(pid)] == []
    assert not directory.exists()
    server.stop()


def test_rabbitmq_vhosts_are_isolated(rabbitmq_server):
    first = rabbitmq_server.add_vhost("iso_a")
    second = rabbitmq_server.add_vhost("iso_b")
    try:
        assert rabbitmq_server.add_vhost("iso_a") == first
        with amqp_connection(first) as conn:
            conn.default_channel.queue_declare("only_in_a", durable=True)
        with amqp_connection(second) as conn, pytest.raises(amqp.exceptions.NotFound):
            conn.default_channel.queue_declare("only_in_a", passive=True)
    finally:
        rabbitmq_server.delete_vhost("iso_a")
        rabbitmq_server.delete_vhost("iso_b")
    rabbitmq_server.delete_vhost("iso_a")


def test_rabbitmq_vhost_fixture(rabbitmq_vhost_url):
    with amqp_connection(rabbitmq_vhost_url) as conn, conn.SimpleQueue("fixture") as queue:
        queue.put({"n": 1})
        assert queue.get(timeout=5).payload == {"n": 1}
        assert conn.virtual_host.startswith("t_test_backing_services_")


def test_rabbitmq_messages_and_credentials_survive_a_restart(kept_dir):
    """A node built with its virtual host: its first boot makes it (and no `/`), and add_vhost
    then runs no tool."""
    with LocalRabbitMQ(kept_dir, vhost="kitchen") as first:
        tools = []
        first.ctl = lambda *args, **kw: tools.append(args)  # a tool run would be recorded
        assert first.add_vhost("kitchen") == first.url
        assert tools == []
        assert first.url.endswith("/kitchen")
        with (
            pytest.raises(amqp.exceptions.NotAllowed, match="vhost / not found"),
            amqp_connection(first.vhost_url("/")) as conn,
        ):
            conn.connect()
        with amqp_connection(first.url) as conn, conn.SimpleQueue("kept") as queue:
            queue.put({"soup": "minestrone"}, delivery_mode=2)
        identity = (first.node, first.user, first.password)
        del first.ctl  # stop() uses the real tools
    with LocalRabbitMQ(kept_dir, vhost="kitchen") as second:
        assert (second.node, second.user, second.password) == identity
        with amqp_connection(second.url) as conn, conn.SimpleQueue("kept") as queue:
            message = queue.get(timeout=5)
            assert message.payload == {"soup": "minestrone"}
            message.ack()


def test_a_rabbitmq_node_made_before_clusters_keeps_its_name_and_data_alone(kept_dir):
    """Renaming a node loses its data: one started again as a cluster's node 0 runs as before."""
    from backing_services.rabbitmq_node import ClusterJoin

    with LocalRabbitMQ(kept_dir) as first:
        with amqp_connection(first.url) as conn, conn.SimpleQueue("kept") as queue:
            queue.put({"soup": "minestrone"}, delivery_mode=2)
        node = first.node
    join = ClusterJoin("rabbit@broker-0", "COOKIE" * 4, "", epmd_port=1, seed=True)
    with LocalRabbitMQ(kept_dir, cluster=join) as second:
        assert (second.node, second.cluster) == (node, None)
        with amqp_connection(second.url) as conn, conn.SimpleQueue("kept") as queue:
            assert queue.get(timeout=5).payload == {"soup": "minestrone"}


def test_rabbitmq_that_dies_during_start_reports_its_log(kept_dir):
    kept_dir.mkdir(parents=True)
    (kept_dir / "advanced.config").write_text("[{rabbit, [this is not erlang\n")
    server = LocalRabbitMQ(kept_dir, start_timeout=300)
    started = time.monotonic()
    with pytest.raises(ServiceStartError) as caught:
        server.start()
    took = time.monotonic() - started
    print(f"\nLocalRabbitMQ failed start reported after {took:.2f} s")
    assert took < quick(30, timeout=300)  # at once, not at the timeout
    assert "RabbitMQ exited while starting" in str(caught.value)
    assert "failed_to_read_advanced_configuration_file" in str(caught.value)
    assert server._server is None and server._epmd is None


def test_rabbitmq_refuses_a_taken_port(listening_port):
    server = LocalRabbitMQ(port=listening_port)
    with pytest.raises(PortInUse, match=str(listening_port)):
        server.start()
    assert server.directory is None


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the server to another account")
def test_postgres_says_which_parent_its_account_cannot_enter(kept_dir):
    private = kept_dir.parent / "private"
    private.mkdir(mode=0o700)
    with pytest.raises(ServiceError, match=f"'postgres', which cannot enter {private} "):
        LocalPostgres(private / "data").start()


def test_postgres_gives_an_app_role_its_database_and_nothing_more(postgres_server):
    url = postgres_server.ensure_owner("soup_app", "first-password", "soup_owned")
    try:
        assert url.endswith("/soup_owned") and "soup_app:first-password@" in url
        params = {"host": postgres_server.host, "port": postgres_server.port, "user": "soup_app"}
        check_app_role({**params, "password": "first-password"}, "soup_owned")
        query(url, "CREATE TABLE made_by_the_app (n int)")  # it owns the schema's database
        # again, as every push and start does: the password is set anew, the data stays
        url = postgres_server.ensure_owner("soup_app", "second-password", "soup_owned")
        assert query(url, "SELECT to_regclass('made_by_the_app') IS NOT NULL") == [(True,)]
        with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
            psycopg2.connect(**params, password="first-password", dbname="soup_owned")
    finally:
        postgres_server.drop_database("soup_owned")
        with contextlib.closing(psycopg2.connect(postgres_server.url)) as conn:
            conn.autocommit = True
            conn.cursor().execute("DROP ROLE IF EXISTS soup_app")
