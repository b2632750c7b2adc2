"""Benchmark the events camera against the practical limit of writing the same rows.

    python -m bench.camera [--tasks 50000] [--rounds 3] [--live] [--admin-rows 1000000]
    python -m bench.camera --database mariadb [--tasks 50000] [--rounds 3]

Starts its own PostgreSQL or MariaDB (and, for --live, RabbitMQ) through backing_services, then:

1. feeds a synthetic event stream (sent, received, started, succeeded per task, heartbeats)
   through the camera (the monitor's fold + bulk writes) into PostgreSQL as celerycam runs it:
   this thread receives the events, a shutter thread takes a snapshot after each simulated
   interval and writes it (task upserts and the tasks' timeline events) meanwhile;
2. writes the same final rows with plain psycopg2 `execute_values`, an INSERT … ON CONFLICT
   of the tasks and an INSERT of their events (MariaDB: mysqlclient's multi-row `executemany`,
   INSERT … ON DUPLICATE KEY UPDATE), into the same (emptied) tables: the practical limit;
   both in turn, `--rounds` times; the ratio is the median of the rounds' ratios;
3. with --live, runs `manage.py celeryd -E -c 2` and `manage.py celerycam` on real servers,
   queues no-op tasks as fast as possible and measures how far the camera lags behind;
4. with --admin-rows, times the admin's Tasks page on a table of that many rows.

Prints one JSON object; leaves nothing running.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATABASE = "bench_camera"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The benchmark's options."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.camera", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--tasks", type=int, default=5000, help="tasks in the synthetic stream")
    parser.add_argument(
        "--rate",
        type=float,
        default=1500.0,
        help="tasks per second in the stream (a worker at full speed)",
    )
    parser.add_argument("--interval", type=float, default=1.0, help="seconds per snapshot")
    parser.add_argument(
        "--rounds", type=int, default=3, help="camera and raw runs, in turn (medians reported)"
    )
    parser.add_argument(
        "--database",
        choices=("postgresql", "mariadb"),
        default="postgresql",
        help="the camera's database (the synthetic part; --live and --admin-rows: postgresql)",
    )
    parser.add_argument("--live", action="store_true", help="also run a real worker and camera")
    parser.add_argument("--live-tasks", type=int, default=20000, help="tasks of the live run")
    parser.add_argument(
        "--admin-rows",
        type=int,
        default=0,
        help="also time the admin's Tasks page with this many rows",
    )
    args = parser.parse_args(argv)
    if args.database != "postgresql" and (args.live or args.admin_rows):
        parser.error("--live and --admin-rows run on postgresql only")
    return args


def environment(path: Path, database, broker_url: str | None, tag: str = "SQL") -> Path:
    """Write the platform's environment file pointing at the benchmark's servers (the database
    as a `postgresql` service, tag SQL, or a `mysql` one, tag MYSQL)."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(broker_url or "amqp://unused:unused@127.0.0.1:1/%2F")
    data = {
        f"DOTCLOUD_DB_{tag}_LOGIN": database.user,
        f"DOTCLOUD_DB_{tag}_PASSWORD": database.password,
        f"DOTCLOUD_DB_{tag}_HOST": database.host,
        f"DOTCLOUD_DB_{tag}_PORT": str(database.port),
        "DJANGO_DB_NAME": DATABASE,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "CLOUDAMQP_RABBITMQ_AMQP_HOST": parts.hostname,
        "CLOUDAMQP_RABBITMQ_AMQP_PORT": str(parts.port),
        "CLOUDAMQP_RABBITMQ_AMQP_LOGIN": unquote(parts.username or ""),
        "CLOUDAMQP_RABBITMQ_AMQP_PASSWORD": unquote(parts.password or ""),
        "CLOUDAMQP_RABBITMQ_AMQP_VIRTUALHOST": unquote(parts.path[1:]) or "/",
    }
    path.write_text(json.dumps(data, indent=2))
    path.chmod(0o600)
    return path


def setup_django(env_file: Path) -> None:
    """Configure Django with the project's settings on the benchmark's database; migrate."""
    os.environ["MINESTRONE_ENV_FILE"] = str(env_file)
    os.environ["DJANGO_SETTINGS_MODULE"] = "minestrone.settings"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print its JSON."""
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from backing_services import choice
    from bench.camera_stream import PostgresRaw

    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-camera-")))
        if args.database == "mariadb":
            from bench.camera_mariadb import MariaDBRaw

            server = stack.enter_context(choice.mariadb_server())
            raw, tag = MariaDBRaw(server, DATABASE), "MYSQL"
        else:
            server = postgres = stack.enter_context(choice.postgres_server())
            raw, tag = PostgresRaw(server, DATABASE), "SQL"
        server.create_database(DATABASE)
        broker_url = None
        if args.live:
            rabbitmq = stack.enter_context(choice.rabbitmq_server())
            broker_url = rabbitmq.add_vhost("bench_camera")
        env_file = environment(folder / "environment.json", server, broker_url, tag)
        setup_django(env_file)
        from bench import camera_synthetic

        report = camera_synthetic.run(args.tasks, args.rate, args.interval, raw, args.rounds)
        report["database"] = args.database
        if args.live:
            from bench import camera_live

            report["live"] = camera_live.run(args.live_tasks, env_file, folder)
        if args.admin_rows:
            from bench import admin_page

            report["admin"] = admin_page.run(args.admin_rows, postgres, DATABASE)
        from django.db import connections

        connections.close_all()
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
