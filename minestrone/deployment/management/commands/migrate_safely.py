"""`manage.py migrate_safely`: create the database if needed, then migrate under a lock."""

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from minestrone.deployment import dbwait
from minestrone.deployment.database import (
    ensure_database,
    ensure_mysql_database,
    migration_lock,
    without_client_deadline,
)
from minestrone.deployment.errors import DatabaseSetupError


class Command(BaseCommand):
    """Create the database when missing and run migrate, one instance at a time."""

    help = (
        "Create the database (PostgreSQL or MariaDB) when it is missing, then apply migrations "
        "while holding a lock, so that several instances deploying at once migrate once."
    )

    def add_arguments(self, parser):
        """Accept the database alias."""
        parser.add_argument("--database", default="default", help="Database alias to migrate.")

    def handle(self, *args, **options):
        """Do the work; database problems become a one-line CommandError."""
        alias = options["database"]
        connection = connections[alias]
        dbwait.uninstall()  # waiting for another instance's migration is no frozen server
        without_client_deadline(connection)
        create = {"postgresql": ensure_database, "mysql": ensure_mysql_database}.get(
            connection.vendor
        )
        if create is not None:
            try:
                if create(connection.settings_dict):
                    self.stdout.write(f"Created database {connection.settings_dict['NAME']!r}.")
            except DatabaseSetupError as exc:
                raise CommandError(str(exc)) from exc
        try:
            with migration_lock(connection):
                call_command(
                    "migrate",
                    database=alias,
                    interactive=False,
                    verbosity=options["verbosity"],
                    stdout=self.stdout,
                )
        except DatabaseSetupError as exc:
            raise CommandError(str(exc)) from exc
