"""On PostgreSQL, an index that answers a routing key prefix (LIKE 'tasks.%') under any collation.

The (routing_key, tstamp) B-tree serves a prefix only when the database collates as "C"; under
C.UTF-8, en_US.UTF-8 and the like, a prefix filter would read the whole table on each poll. The
pattern operator class compares bytes, so it serves LIKE 'prefix%' whatever the collation. Other
databases need no such index (SQLite's LIKE uses none anyway).
"""

from django.db import migrations

INDEX = "monitor_task_rkey_pattern"


def create(apps, schema_editor) -> None:
    """Build the index (PostgreSQL only).

    Not CONCURRENTLY: that waits for every other transaction, including another instance's
    `migrate_safely` waiting for the migration lock this one holds, and PostgreSQL ends the
    pair as a deadlock. The camera's writes wait meanwhile; it keeps its snapshots until then.
    """
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} "
            "ON monitor_taskstate (routing_key varchar_pattern_ops)"
        )


def drop(apps, schema_editor) -> None:
    """Remove the index (PostgreSQL only)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    """The PostgreSQL-only pattern index on routing_key."""

    dependencies = [
        ("monitor", "0005_queue_sample_unacked"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
