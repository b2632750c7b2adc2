"""Bulk writes of sparse rows (dicts): upserts that apply the merge rules in SQL, one
INSERT … ON CONFLICT (MariaDB: ON DUPLICATE KEY UPDATE) per batch of rows, and plain inserts,
one multi-row INSERT per batch.

Django's bulk_create(update_conflicts=True) can only overwrite columns; the merge rules need
`CASE`/`COALESCE` on conflict, so the statement is written here: PostgreSQL and SQLite share
one form, MariaDB has its own. Plain inserts skip bulk_create's model instances, which cost
more than the database's own work on the camera's write path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import connections, models, transaction

from minestrone.monitor.merge import LATEST, OUTCOME, Rules

DEFAULT_BATCH_SIZE = 500


def dedupe(rules: Rules, rows: Iterable[dict]) -> list[dict]:
    """Merge the rows that share a key and sort them by key (a stable lock order)."""
    merged: dict[str, dict] = {}
    for row in rows:
        key = row[rules.key]
        merged[key] = rules.merge(merged[key], row) if key in merged else row
    return [merged[key] for key in sorted(merged)]


def _assignment(
    rules: Rules, column: str, new_of: Callable[[str], str], old_of: Callable[[str], str]
) -> str:
    new, old = new_of(column), old_of(column)
    if rules.columns[column] == LATEST:
        return f"CASE WHEN {old} IS NULL OR {new} > {old} THEN {new} ELSE {old} END"
    if rules.order is None:
        return f"COALESCE({new}, {old})"
    new_order, old_order = new_of(rules.order), old_of(rules.order)
    new_wins, old_wins = f"COALESCE({new}, {old})", f"COALESCE({old}, {new})"
    if rules.columns[column] == OUTCOME:
        # A finished winner takes no outcome from another state (see merge.Rules.merge). The
        # state column is NOT NULL, so `<>` is enough; both sides read the row before update.
        new_state, old_state = new_of(rules.state), old_of(rules.state)
        finished = int(rules.finished)
        new_wins = (
            f"CASE WHEN {new_order} >= {finished} AND {new_state} <> {old_state} "
            f"THEN {new} ELSE {new_wins} END"
        )
        old_wins = (
            f"CASE WHEN {old_order} >= {finished} AND {old_state} <> {new_state} "
            f"THEN {old} ELSE {old_wins} END"
        )
    return f"CASE WHEN {new_order} >= {old_order} THEN {new_wins} ELSE {old_wins} END"


def _assignment_order(rules: Rules) -> list[str]:
    """The columns in the order they are assigned: those the others read (state, then order)
    last, since MariaDB assigns left to right and a later assignment reads the new value."""
    read = [column for column in (rules.state, rules.order) if column in rules.columns]
    return [column for column in rules.columns if column not in read] + read


def _insert_sql(model: type[models.Model], columns: list[str], rows: int, using: str) -> str:
    """INSERT of `rows` rows. On PostgreSQL the rows come as one array per column (unnest):
    the statement is the same for any number of rows, and the server parses a few arrays
    instead of a VALUES list of thousands of parameters (a quarter less time per batch of
    tasks). Elsewhere, a VALUES list."""
    connection = connections[using]
    quote = connection.ops.quote_name
    head = f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)})"
    if connection.vendor == "postgresql":
        types = [model._meta.get_field(c).db_type(connection) for c in columns]
        arrays = ", ".join(f"%s::{db_type}[]" for db_type in types)
        return f"{head} SELECT * FROM unnest({arrays})"  # noqa: S608 - values are parameters
    one_row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    return f"{head} VALUES {', '.join([one_row] * rows)}"


def upsert_sql(model: type[models.Model], rules: Rules, rows: int, using: str) -> str:
    """Return the statement that upserts `rows` rows of `model` under `rules`."""
    connection = connections[using]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    # Identifiers are quoted by the backend; every value is a parameter.
    insert = _insert_sql(model, [rules.key, *rules.columns], rows, using)

    def old_of(column: str) -> str:
        return f"{table}.{quote(column)}"

    if connection.vendor == "mysql":
        assignments = ", ".join(
            f"{quote(column)} = "
            f"{_assignment(rules, column, lambda c: f'VALUES({quote(c)})', old_of)}"
            for column in _assignment_order(rules)
        )
        return f"{insert} ON DUPLICATE KEY UPDATE {assignments}"
    assignments = ", ".join(
        f"{quote(column)} = {_assignment(rules, column, lambda c: f'EXCLUDED.{quote(c)}', old_of)}"
        for column in rules.columns
    )
    return f"{insert} ON CONFLICT ({quote(rules.key)}) DO UPDATE SET {assignments}"


def _preparer(field: models.Field, using: str) -> Callable[[object], object] | None:
    """How a Python value becomes a parameter for this column (None: as it is)."""
    connection = connections[using]
    if isinstance(field, models.DateTimeField) and connection.vendor != "postgresql":
        adapt = connection.ops.adapt_datetimefield_value  # PostgreSQL's keeps the value
        return lambda value: None if value is None else adapt(value)
    if isinstance(field, models.CharField) and field.max_length:
        limit = field.max_length
        return lambda value: value[:limit] if isinstance(value, str) else value
    return None


def _column(batch: list[dict], column: str, convert: Callable[[object], object] | None) -> list:
    if convert is None:
        return [row.get(column) for row in batch]
    return [convert(row.get(column)) for row in batch]


def _write_batches(
    model: type[models.Model],
    columns: list[str],
    rows: list[dict],
    statement: Callable[[int], str],
    using: str,
    batch_size: int,
) -> None:
    """Execute `statement(n)` for each batch of n rows, the rows' values as parameters (one
    array per column on PostgreSQL, see _insert_sql)."""
    prepare = [(c, _preparer(model._meta.get_field(c), using)) for c in columns]
    by_column = connections[using].vendor == "postgresql"
    full_sql = statement(min(batch_size, len(rows)))
    with connections[using].cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            values = [_column(batch, column, convert) for column, convert in prepare]
            if not by_column:  # row after row
                values = [value for row in zip(*values, strict=True) for value in row]
            full = len(batch) == batch_size or start == 0 or by_column
            cursor.execute(full_sql if full else statement(len(batch)), values)


def upsert(
    model: type[models.Model],
    rules: Rules,
    rows: Iterable[dict],
    using: str = "default",
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> int:
    """Write sparse rows (dicts of column values) into model's table; return how many."""
    rows = dedupe(rules, rows)
    if rows:
        _write_batches(
            model,
            [rules.key, *rules.columns],
            rows,
            lambda n: upsert_sql(model, rules, n, using),
            using,
            batch_size,
        )
    return len(rows)


def insert(
    model: type[models.Model],
    columns: list[str],
    rows: Iterable[dict],
    using: str = "default",
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> int:
    """Insert sparse rows (dicts of column values, a missing one NULL) into model's table, all
    or nothing; return how many."""
    rows = list(rows)
    if rows:
        with transaction.atomic(using=using, savepoint=False):
            _write_batches(
                model,
                columns,
                rows,
                lambda n: _insert_sql(model, columns, n, using),
                using,
                batch_size,
            )
    return len(rows)
