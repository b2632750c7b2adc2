"""The Tasks admin's word search on PostgreSQL: the same tasks as Django's own search, a word
found nowhere answered through the trigram index (never by reading every task)."""

import pytest
from django.db import connection
from django.utils import timezone

from minestrone.monitor import search
from minestrone.monitor.models import TaskState
from tests.integration.monitor.search_results import django_search, searched, task_rows

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.fixture
def tasks():
    now = timezone.now()
    TaskState.objects.record(task_rows(5000, now))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE monitor_taskstate")


def test_the_index_is_there():
    search._indexed.clear()
    assert search.available(connection.alias)


@pytest.mark.parametrize(
    "words",
    ["job_7", "SOUP_3", "soup_3 w1@host", "50%", "kitchen.4", '"job_1"', "id-0042", "nothing-here"],
)
def test_the_same_tasks_as_djangos_search(tasks, rf, words):
    ours = set(searched(rf, words).values_list("pk", flat=True))
    assert ours == set(django_search(rf, words).values_list("pk", flat=True))


def test_no_match_across_two_columns(tasks, rf):
    # "job_1" ends the name, "(1" starts the arguments: never one word
    assert not searched(rf, "job_1(1").exists()


def test_the_trigram_index_serves_the_search(tasks, rf):
    sql, params = searched(rf, "no-such-text").order_by("-tstamp")[:100].query.sql_with_params()
    with connection.cursor() as cursor:
        # 5000 rows: reading them all is cheaper here; what is checked is that the index
        # serves the search (bench.monitor shows the planner choosing it at a million rows)
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        text = "\n".join(row[0] for row in cursor.fetchall())
    assert search.INDEX in text and "Seq Scan" not in text, text
