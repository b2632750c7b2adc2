"""On PostgreSQL, a trigram index for the Tasks admin's word search (``monitor/search.py``).

Without it, a word that no task holds is looked for in every row (a million rows outlast the
database deadline). pg_trgm is a trusted extension: the database's owner may create it. Where
it cannot be created, the search stays as it was (every row read), and the migration says so.
"""

import logging

from django.db import DatabaseError, migrations, transaction

from minestrone.monitor.search import INDEX, SEARCH_TEXT

logger = logging.getLogger(__name__)


def create(apps, schema_editor) -> None:
    """Create pg_trgm and the index (PostgreSQL only); not CONCURRENTLY, as in 0006."""
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as exc:
        logger.warning("no pg_trgm (%s): the Tasks word search reads every task", exc)
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON monitor_taskstate "
        f"USING gin (({SEARCH_TEXT}) gin_trgm_ops)"
    )
    # finer statistics of the expression: the planner tells rare words from common ones
    schema_editor.execute(f"ALTER INDEX {INDEX} ALTER COLUMN 1 SET STATISTICS 1000")


def drop(apps, schema_editor) -> None:
    """Remove the index (PostgreSQL only); the extension stays (others may use it)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    """The PostgreSQL-only trigram index of the Tasks search."""

    dependencies = [
        ("monitor", "0008_api_tokens"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
