"""What every deployment target's app role must be: it owns its database and nothing more."""

from __future__ import annotations

import re

import psycopg2
from psycopg2 import errors

# As a superuser: the role's powers and the databases it owns, one row ``f|f|f|f|f|<dbs>``.
ROLE_FACTS = (
    "SELECT r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolreplication, r.rolbypassrls, "
    "(SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database d "
    "WHERE d.datdba = r.oid) FROM pg_roles r WHERE r.rolname = '{login}'"
)


def role_facts_query(login: str) -> str:
    """``ROLE_FACTS`` for ``login`` (a plain name: it goes into the text as it is)."""
    assert re.fullmatch(r"[a-z][a-z0-9_]*", login), login
    return ROLE_FACTS.format(login=login)


def expected_facts(database: str) -> str:
    """The row ``psql -tA`` prints for a role that owns ``database`` and has no other power."""
    return f"f|f|f|f|f|{database}"


def check_app_role(params: dict, database: str) -> None:
    """Logged in as the app's role: it owns its database, cannot make roles or databases."""
    connection = psycopg2.connect(**params, dbname=database, connect_timeout=10)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(role_facts_query(params["user"]))
            [row] = cursor.fetchall()
            assert row == (False, False, False, False, False, database), row
            cursor.execute("SELECT current_database()")
            assert cursor.fetchone() == (database,)
            for statement in (
                "CREATE ROLE intruder LOGIN",
                "CREATE DATABASE elsewhere",
                "ALTER ROLE CURRENT_USER CREATEDB",
            ):
                try:
                    cursor.execute(statement)
                except errors.InsufficientPrivilege:
                    continue
                raise AssertionError(f"the app's role could run {statement!r}")
    finally:
        connection.close()


def check_role_as_superuser(psql, login: str, database: str) -> None:
    """Through ``psql(database, query) -> output`` (the superuser's ``psql -tA`` in the
    database's container): ``login`` owns ``database`` and every table in it, has no power."""
    assert psql("postgres", role_facts_query(login)).strip() == expected_facts(database)
    owners = psql(database, "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")
    assert owners.split() == [login]  # the migrations ran as the app's role
