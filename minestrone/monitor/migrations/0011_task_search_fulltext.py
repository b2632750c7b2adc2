"""On MySQL/MariaDB, a FULLTEXT index for the Tasks admin's word search
(``monitor/search_fulltext.py``), as 0009's trigram index is on PostgreSQL.

Made without stopwords, so that no word of a task (``the``, ``for``…) is left out of it. The
first FULLTEXT index of a table rebuilds it once (InnoDB adds its document id column).
"""

from django.db import migrations

from minestrone.monitor.search import COLUMNS
from minestrone.monitor.search_fulltext import INDEX, TABLE


def create(apps, schema_editor) -> None:
    """Create the index (MySQL/MariaDB only)."""
    if schema_editor.connection.vendor != "mysql":
        return
    schema_editor.execute("SET SESSION innodb_ft_enable_stopword = OFF")
    try:
        schema_editor.execute(
            f"ALTER TABLE {TABLE} ADD FULLTEXT INDEX {INDEX} ({', '.join(COLUMNS)})"
        )
    finally:
        schema_editor.execute("SET SESSION innodb_ft_enable_stopword = ON")


def drop(apps, schema_editor) -> None:
    """Remove the index (MySQL/MariaDB only)."""
    if schema_editor.connection.vendor == "mysql":
        schema_editor.execute(f"ALTER TABLE {TABLE} DROP INDEX {INDEX}")


class Migration(migrations.Migration):
    """The MySQL/MariaDB-only FULLTEXT index of the Tasks search."""

    dependencies = [
        ("monitor", "0010_queue_sample_consumers_unknown"),
    ]

    # not atomic: MySQL cannot roll DDL back, and Django refuses DDL inside a transaction there
    operations = [migrations.RunPython(create, drop, atomic=False, elidable=False)]
