"""A routing key prefix (the Tasks list's filter and search) reads an index on PostgreSQL under a
collation other than "C", as in the container image (C.UTF-8) and managed databases."""

import pytest
from django.db import connection
from django.utils import timezone

from minestrone.monitor.admin_tasks import TaskStateAdmin
from minestrone.monitor.filters import RoutingKeyPrefixFilter
from minestrone.monitor.models import TaskState
from minestrone.monitor.states import progress

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def linguistic_collation() -> str:
    """A collation of the server that is not "C": LIKE 'x%' cannot use a plain B-tree under it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT collname FROM pg_collation WHERE collname IN "
            "('C.utf8', 'C.UTF-8', 'en_US.utf8', 'und-x-icu') ORDER BY collname LIMIT 1"
        )
        row = cursor.fetchone()
    assert row, "no collation other than C on this server (initdb imports the system's)"
    return row[0]


@pytest.fixture
def keys_under_a_linguistic_collation():
    now = timezone.now()
    TaskState.objects.record(
        [
            {
                "task_id": f"t{n}",
                "state": "SUCCESS",
                "progress": progress("SUCCESS", now.timestamp()),
                "tstamp": now,
                "routing_key": f"tasks.q{n % 50}.job",
            }
            for n in range(2000)
        ]
    )
    with connection.cursor() as cursor:  # undone with the test's transaction
        cursor.execute(
            "ALTER TABLE monitor_taskstate ALTER COLUMN routing_key TYPE varchar(255) "
            f'COLLATE "{linguistic_collation()}"'
        )
        cursor.execute("ANALYZE monitor_taskstate")


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def prefixed(request_rf, **query):
    """The rows the admin's prefix filter and prefix search select, as one queryset each."""
    from django.contrib.admin.sites import site

    request = request_rf.get("/", query)
    model_admin = TaskStateAdmin(TaskState, site)
    by_filter = RoutingKeyPrefixFilter(
        request, {k: [v] for k, v in query.items()}, TaskState, model_admin
    ).queryset(request, TaskState.objects.all())
    by_search, _ = model_admin.get_search_results(
        request, TaskState.objects.all(), query["routing_key_prefix"]
    )
    return by_filter, by_search


def test_a_routing_key_prefix_reads_the_pattern_index(keys_under_a_linguistic_collation, rf):
    for queryset in prefixed(rf, routing_key_prefix="tasks.q7.*"):
        assert queryset.count() == 40
        text = plan(queryset.values("pk"))
        assert "~>=~" in text and "monitor_task_rkey_pattern" in text, text
