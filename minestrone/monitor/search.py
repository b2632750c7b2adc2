"""The Tasks admin's word search on PostgreSQL: one trigram index over the searched columns, so
that a word found nowhere is answered at once instead of by reading every task.

The index (migration 0009) is on ``SEARCH_TEXT``; a word is looked for with ``LIKE`` on that
same expression, which the planner matches to the index. Its statistics let the planner walk
the time index for a common word (the newest 100 matches come first) and read the trigram
index for a rare one. A separator the columns never hold keeps a word from matching across two
columns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connections
from django.db.models import QuerySet
from django.utils.text import smart_split, unescape_string_literal

INDEX = "monitor_task_search_trgm"
COLUMNS = ("task_id", "name", "routing_key", "args", "kwargs", "worker")
SEPARATOR = "E'\\x1f'"  # the unit separator: in no task id, name, key, argument text or worker
SEARCH_TEXT = "UPPER(" + f" || {SEPARATOR} || ".join(
    f"COALESCE({column}::text, '')" for column in COLUMNS
) + ")"

_indexed: dict[tuple[str, ...], bool | None] = {}


def database_key(alias: str) -> tuple[str, ...]:
    """Which database an alias names now (what is asked of it once is kept under this key)."""
    connection = connections[alias]
    settings = connection.settings_dict
    return (alias, connection.vendor, *(str(settings.get(k)) for k in ("HOST", "PORT", "NAME")))


def asked_once(cache: dict, alias: str, vendor: str, ask: Callable[[Any], Any]) -> Any:
    """What ``ask(cursor)`` answers of the database ``alias`` names now if it is ``vendor``'s
    (else None), asked once and kept in ``cache``."""
    key = database_key(alias)
    if key not in cache:
        connection = connections[alias]
        cache[key] = None
        if connection.vendor == vendor:
            with connection.cursor() as cursor:
                cache[key] = ask(cursor)
    return cache[key]


def _has_index(cursor) -> bool:  # noqa: ANN001 - a DB-API cursor
    cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [INDEX])
    return cursor.fetchone() is not None


def available(alias: str) -> bool:
    """True when the database has the search index (PostgreSQL with pg_trgm; asked once)."""
    return bool(asked_once(_indexed, alias, "postgresql", _has_index))


def terms(search: str) -> list[str]:
    """The words of a search, as the admin splits them ("quoted words" stay together)."""
    found = []
    for bit in smart_split(search):
        if bit.startswith(('"', "'")) and bit[0] == bit[-1] and len(bit) > 1:
            bit = unescape_string_literal(bit)
        if bit:
            found.append(bit)
    return found


def _pattern(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def matching(queryset: QuerySet, search: str) -> QuerySet:
    """The tasks holding every word of the search in one of the searched columns, ignoring
    case, through the trigram index."""
    where = [f"{SEARCH_TEXT} LIKE UPPER(%s)" for _ in terms(search)]
    params = [_pattern(word) for word in terms(search)]
    return queryset.extra(where=where, params=params)  # noqa: S610 (the words are parameters)
