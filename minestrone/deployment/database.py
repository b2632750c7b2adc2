"""Create the application's database when missing (PostgreSQL, MariaDB), and migrate it under a
lock (PostgreSQL's advisory lock, MariaDB's named lock ``GET_LOCK``)."""

from __future__ import annotations

import contextlib

import psycopg2
from psycopg2 import errorcodes, sql

from minestrone.deployment.errors import DatabaseSetupError

# pg_advisory_lock key held while migrating ("minestrone" folded into a 63-bit integer).
MIGRATION_LOCK_KEY = 0x6D696E6573747200
# MariaDB's named lock for the same purpose (a name per server: one app per server).
MIGRATION_LOCK_NAME = "minestrone.migrate"
LOCK_WAIT_SECONDS = 365 * 24 * 3600  # GET_LOCK's "no deadline" (MariaDB refuses a negative one)
_MAINTENANCE_DATABASES = ("postgres", "template1")


def _connect_maintenance(settings: dict):
    errors = []
    for name in _MAINTENANCE_DATABASES:
        try:
            return psycopg2.connect(
                dbname=name,
                user=settings["USER"],
                password=settings["PASSWORD"],
                host=settings["HOST"],
                port=settings["PORT"],
                connect_timeout=10,
            )
        except psycopg2.OperationalError as exc:
            errors.append(f"{name}: {str(exc).strip()}")
    raise DatabaseSetupError(
        f"Cannot connect to PostgreSQL on {settings['HOST']}:{settings['PORT']} as "
        f"{settings['USER']!r} ({'; '.join(errors)}). Check the DOTCLOUD_DB_SQL_* values."
    )


def ensure_database(settings: dict) -> bool:
    """Create the database named in settings if it does not exist; return True if created."""
    connection = _connect_maintenance(settings)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            # serialise concurrent creators; released when the connection closes
            cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK_KEY])
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [settings["NAME"]])
            if cursor.fetchone():
                return False
            try:
                cursor.execute(
                    sql.SQL("CREATE DATABASE {}").format(sql.Identifier(settings["NAME"]))
                )
            except psycopg2.Error as exc:
                if exc.pgcode in (errorcodes.DUPLICATE_DATABASE, errorcodes.UNIQUE_VIOLATION):
                    return False  # another instance created it a moment ago
                raise DatabaseSetupError(
                    f"Cannot create database {settings['NAME']!r}: {str(exc).strip()}"
                ) from exc
            return True
    finally:
        connection.close()


def ensure_mysql_database(settings: dict) -> bool:
    """Create the MariaDB database named in settings if it does not exist (utf8mb4, binary-safe
    collation left to the server); return True if created."""
    import MySQLdb

    try:
        connection = MySQLdb.connect(
            host=settings["HOST"],
            port=int(settings["PORT"]),
            user=settings["USER"],
            password=settings["PASSWORD"],
            connect_timeout=10,
            charset="utf8mb4",
        )
    except MySQLdb.Error as exc:
        raise DatabaseSetupError(
            f"Cannot connect to MariaDB on {settings['HOST']}:{settings['PORT']} as "
            f"{settings['USER']!r} ({exc.args[-1]}). Check the DOTCLOUD_<SERVICE>_MYSQL_* values."
        ) from None
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM information_schema.schemata WHERE schema_name = %s",
                [settings["NAME"]],
            )
            if cursor.fetchone():
                return False
            name = settings["NAME"].replace("`", "``")
            try:
                # IF NOT EXISTS: another instance creating it a moment ago is no error
                cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4")
            except MySQLdb.Error as exc:
                raise DatabaseSetupError(
                    f"Cannot create database {settings['NAME']!r}: {exc.args[-1]}"
                ) from None
            return cursor.rowcount > 0  # 0: created by another instance meanwhile
    finally:
        connection.close()


def without_client_deadline(connection) -> None:
    """On MariaDB, reconnect without the client's read and write deadlines (waiting for another
    instance's migration, or one long ALTER, is no frozen server), as dbwait.uninstall does for
    PostgreSQL."""
    if connection.vendor != "mysql":
        return
    connection.close()
    options = connection.settings_dict.setdefault("OPTIONS", {})
    for deadline in ("read_timeout", "write_timeout"):
        options.pop(deadline, None)


@contextlib.contextmanager
def migration_lock(connection):
    """Hold a lock so that one instance migrates at a time: PostgreSQL's advisory lock,
    MariaDB's named lock (both the session's, released when it ends if not before)."""
    if connection.vendor == "mysql":
        with connection.cursor() as cursor:
            cursor.execute("SET SESSION max_statement_time = 0")  # migrating may be long
            cursor.execute("SELECT GET_LOCK(%s, %s)", [MIGRATION_LOCK_NAME, LOCK_WAIT_SECONDS])
            if cursor.fetchone()[0] != 1:
                raise DatabaseSetupError(f"MariaDB did not grant the lock {MIGRATION_LOCK_NAME!r}")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT RELEASE_LOCK(%s)", [MIGRATION_LOCK_NAME])
        return
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")  # waiting here, and migrating, may be long
        cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK_KEY])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK_KEY])
