"""Create the application's PostgreSQL database when missing, and migrate it under a lock."""

from __future__ import annotations

import contextlib

import psycopg2
from psycopg2 import errorcodes, sql

from minestrone.deployment.errors import DatabaseSetupError

# pg_advisory_lock key held while migrating ("minestrone" folded into a 63-bit integer).
MIGRATION_LOCK_KEY = 0x6D696E6573747200
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


@contextlib.contextmanager
def migration_lock(connection):
    """Hold a PostgreSQL advisory lock so that one instance migrates at a time."""
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
