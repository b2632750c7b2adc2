"""`manage.py migrate_safely` on a real PostgreSQL: the database is created, concurrency is safe."""

import json
import os
import subprocess
import sys

import psycopg2
import pytest

from tests.integration.conftest import ROOT


def environment(tmp_path, postgres_server, db_name):
    data = {
        "DOTCLOUD_DB_SQL_LOGIN": postgres_server.user,
        "DOTCLOUD_DB_SQL_PASSWORD": postgres_server.password,
        "DOTCLOUD_DB_SQL_HOST": postgres_server.host,
        "DOTCLOUD_DB_SQL_PORT": str(postgres_server.port),
        "DJANGO_DB_NAME": db_name,
        "DJANGO_SECRET_KEY": "integration-" + "y" * 40,
        "CLOUDAMQP_RABBITMQ_AMQP_HOST": "127.0.0.1",
        "CLOUDAMQP_RABBITMQ_AMQP_PORT": "1",
        "CLOUDAMQP_RABBITMQ_AMQP_LOGIN": "unused",
        "CLOUDAMQP_RABBITMQ_AMQP_PASSWORD": "unused",
        "CLOUDAMQP_RABBITMQ_AMQP_VIRTUALHOST": "/",
    }
    path = tmp_path / "environment.json"
    path.write_text(json.dumps(data, indent=4))
    env = {**os.environ, "MINESTRONE_ENV_FILE": str(path)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def tables(postgres_server, db_name):
    with (
        psycopg2.connect(
            dbname=db_name,
            user=postgres_server.user,
            password=postgres_server.password,
            host=postgres_server.host,
            port=postgres_server.port,
        ) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {row[0] for row in cursor.fetchall()}


def drop(postgres_server, db_name):
    connection = psycopg2.connect(
        dbname="postgres",
        user=postgres_server.user,
        password=postgres_server.password,
        host=postgres_server.host,
        port=postgres_server.port,
    )
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{db_name}"')
    connection.close()


@pytest.fixture
def db_name(postgres_server):
    name = "migrate_test_db"
    drop(postgres_server, name)
    yield name
    drop(postgres_server, name)


def test_two_instances_deploying_at_once_create_and_migrate_the_database_once(
    tmp_path, postgres_server, db_name
):
    env = environment(tmp_path, postgres_server, db_name)
    command = [sys.executable, "minestrone/manage.py", "migrate_safely", "--no-color"]
    runs = [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert sum("Created database 'migrate_test_db'" in out for out in outputs) == 1, outputs
    assert sum("Applying auth.0001_initial..." in out for out in outputs) == 1, outputs
    assert {"auth_user", "django_migrations", "django_session"} <= tables(postgres_server, db_name)


def test_unreachable_database_is_one_clear_line_not_a_traceback(tmp_path, postgres_server):
    env = environment(tmp_path, postgres_server, "whatever")
    data = json.loads((tmp_path / "environment.json").read_text())
    data["DOTCLOUD_DB_SQL_PORT"] = "1"
    (tmp_path / "environment.json").write_text(json.dumps(data))
    result = subprocess.run(
        [sys.executable, "minestrone/manage.py", "migrate_safely"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert f"Cannot connect to PostgreSQL on {postgres_server.host}:1 " in result.stderr
    assert "Traceback" not in result.stderr
