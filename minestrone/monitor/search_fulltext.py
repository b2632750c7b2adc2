"""The Tasks admin's word search on MySQL/MariaDB: a FULLTEXT index over the searched columns, so
that a word found nowhere is answered at once instead of by reading every task.

A FULLTEXT index holds the words of the columns (runs of letters, digits and ``_``), not every
substring as PostgreSQL's trigram index does: here a word of the search is found where a word of
the columns begins with it (``soup`` finds ``Soup_3`` and ``app.soup``, not ``minestrone``).
Each such part of three characters or more (the server's shortest indexed word) must start a
word of the task in the index; Django's own test (each word in some column, ignoring case) then
keeps the tasks holding the whole search word. A search with no such part (``w1``, ``50%``) is
Django's own, reading every task. Words longer than the server's longest indexed word (84) are
not in the index: a search for one of their beginnings finds nothing.
"""

from __future__ import annotations

import functools
import operator

from django.db.models import Q, QuerySet

from minestrone.monitor.search import COLUMNS, asked_once, terms

INDEX = "monitor_task_search_ft"
TABLE = "monitor_taskstate"
WORD_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")

_sizes: dict[tuple[str, ...], tuple[int, int] | None] = {}


def available(alias: str) -> bool:
    """True when the database is MySQL/MariaDB with the index (asked once per database)."""
    return index_sizes(alias) is not None


def index_sizes(alias: str) -> tuple[int, int] | None:
    """The shortest and longest words the server indexes; None without the index."""
    return asked_once(_sizes, alias, "mysql", _sizes_of_the_index)


def _sizes_of_the_index(cursor) -> tuple[int, int] | None:  # noqa: ANN001 - a DB-API cursor
    cursor.execute(
        "SELECT 1 FROM information_schema.statistics WHERE table_schema = DATABASE() "
        "AND table_name = %s AND index_name = %s LIMIT 1",
        [TABLE, INDEX],
    )
    if cursor.fetchone() is None:
        return None
    cursor.execute("SELECT @@innodb_ft_min_token_size, @@innodb_ft_max_token_size")
    shortest, longest = cursor.fetchone()
    return int(shortest), int(longest)


def index_words(word: str, shortest: int, longest: int) -> list[str]:
    """The beginnings of index words a task holding ``word`` at a word's start must have: the
    runs of ASCII letters, digits and ``_`` at the word's start or after an ASCII character of
    another kind, of ``shortest`` to ``longest`` characters (after any other character the
    server may count as part of the word, a run may be the middle of an index word)."""
    found, start = [], None
    for position, character in enumerate(word + " "):
        if character in WORD_CHARACTERS:
            if position == 0 or after_a_separator(word[position - 1]):
                start = position
            continue
        if start is not None and shortest <= position - start <= longest:
            found.append(word[start:position])
        start = None
    return found


def after_a_separator(character: str) -> bool:
    """Whether ``character`` ends every word of the index (an ASCII letter, digit or ``_``
    continues one, and the server may count another character as a letter)."""
    return character.isascii() and character not in WORD_CHARACTERS


def boolean_query(words: list[str], shortest: int, longest: int) -> str:
    """The ``MATCH … AGAINST (… IN BOOLEAN MODE)`` text requiring every index word's beginning
    ("" when no word of the search has any)."""
    required = dict.fromkeys(
        part.lower() for word in words for part in index_words(word, shortest, longest)
    )
    return " ".join(f"+{part}*" for part in required)


def matching(queryset: QuerySet, search: str) -> QuerySet:
    """The tasks holding every word of the search in one of the searched columns, ignoring
    case, narrowed by the FULLTEXT index first (see the module's note)."""
    words = terms(search)
    shortest, longest = index_sizes(queryset.db) or (0, 0)
    query = boolean_query(words, shortest, longest)
    if query:
        against = f"MATCH ({', '.join(COLUMNS)}) AGAINST (%s IN BOOLEAN MODE)"
        queryset = queryset.extra(where=[against], params=[query])  # noqa: S610 (a parameter)
    for word in words:
        queryset = queryset.filter(
            functools.reduce(operator.or_, (Q(**{f"{c}__icontains": word}) for c in COLUMNS))
        )
    return queryset
