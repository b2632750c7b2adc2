"""The Tasks admin's word search on MariaDB: the FULLTEXT index made by the migrations serves it,
and it finds what Django's own search finds for words that begin words of the columns."""

import time

import pytest
from django.db import connection
from django.utils import timezone

from minestrone.monitor import search, search_fulltext
from minestrone.monitor.models import TaskState
from tests.integration.monitor.mariadb import REDIS_BROKER, app_database, default_database
from tests.integration.monitor.search_results import django_search, searched, task_rows
from tests.pace import within

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tasks(mariadb_server, mariadb_database_url, django_db_blocker, tmp_path_factory):
    """Django's default database is a migrated MariaDB database holding 3,000 tasks."""
    folder = tmp_path_factory.mktemp("mariadb-search")
    settings, _ = app_database(mariadb_server, mariadb_database_url, folder, REDIS_BROKER)
    with django_db_blocker.unblock(), default_database(settings):
        now = timezone.now()
        TaskState.objects.record(task_rows(3000, now))
        wait_for_the_index(3000)
        yield
        TaskState.objects.all().delete()


def wait_for_the_index(count: int) -> None:
    """Until the FULLTEXT index holds ``count`` tasks: under load, InnoDB was seen answering
    without the last statement's rows for a moment after it had committed."""
    every = f"MATCH ({', '.join(search.COLUMNS)}) AGAINST ('+tasks*' IN BOOLEAN MODE)"
    deadline = time.monotonic() + within(30)
    while True:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {search_fulltext.TABLE} WHERE {every}")  # noqa: S608
            [(indexed,)] = cursor.fetchall()
        if indexed == count:
            return
        assert time.monotonic() < deadline, f"the index holds {indexed} of {count} tasks"
        time.sleep(0.2)


def pks(found) -> set[str]:
    return set(found.values_list("pk", flat=True))


def test_the_index_is_there(tasks):
    assert connection.vendor == "mysql"
    assert search_fulltext.available(connection.alias)
    assert not search.available(connection.alias)


@pytest.mark.parametrize(
    "words",
    [
        "job_7",
        "SOUP_3",
        "soup_3 w1@host",
        "50%",
        "kitchen.4",
        '"job_1"',
        "id-00042",
        "nothing-here",
        "the",  # no stopword is left out of the index
        "CAFE",  # the collation's equality, as Django's search has it
        "café tasks.kitchen.7",
    ],
)
def test_the_same_tasks_as_djangos_search(tasks, rf, words):
    assert pks(searched(rf, words)) == pks(django_search(rf, words))


def test_a_word_is_found_where_a_word_of_the_columns_begins_with_it(tasks, rf):
    assert pks(searched(rf, "oup_3")) == set()  # inside Soup_3: not a word's beginning
    assert pks(searched(rf, "soup_3")) == pks(django_search(rf, "oup_3")) != set()


def test_the_fulltext_index_serves_the_search(tasks, rf):
    sql, params = searched(rf, "no-such-text").order_by("-tstamp")[:100].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        plan = cursor.fetchall()
        columns = [column[0] for column in cursor.description]
    [row] = [dict(zip(columns, row, strict=True)) for row in plan]
    assert (row["type"], row["key"]) == ("fulltext", search_fulltext.INDEX), row
