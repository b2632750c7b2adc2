"""The practical limit of writing the camera's rows into MariaDB: mysqlclient's ``executemany``
(one multi-row INSERT … ON DUPLICATE KEY UPDATE per page of tasks, one multi-row INSERT per page
of events), on the same tables bench.camera fills through the camera."""

from __future__ import annotations

import time
from contextlib import closing
from datetime import UTC, datetime

from bench.camera_stream import COLUMNS, EVENT_COLUMNS

PAGE_SIZE = 1000


class MariaDBRaw:
    """Raw bulk writes into one MariaDB database (the same interface as PostgresRaw)."""

    def __init__(self, server, database: str):
        self.server = server
        self.database = database

    def connect(self):
        """An autocommit connection to the benchmark's database, closed by ``with``."""
        return closing(self.server.connect(self.database))

    @staticmethod
    def empty(connection) -> None:
        """Start from empty tables with fresh statistics."""
        cursor = connection.cursor()
        for table in ("monitor_taskstate", "monitor_taskevent"):
            cursor.execute(f"TRUNCATE TABLE {table}")
            cursor.execute(f"ANALYZE TABLE {table}")
            cursor.fetchall()

    @staticmethod
    def write(connection, rows: list[tuple], events: list[tuple]) -> float:
        """Upsert the task rows and insert the event rows a page at a time; the seconds taken."""
        assignments = ", ".join(f"{c} = VALUES({c})" for c in COLUMNS[1:])
        one_row = "(" + ", ".join(["%s"] * len(COLUMNS)) + ")"
        tasks_sql = (
            f"INSERT INTO monitor_taskstate ({', '.join(COLUMNS)}) VALUES {one_row} "  # noqa: S608
            f"ON DUPLICATE KEY UPDATE {assignments}"
        )
        one_event = "(" + ", ".join(["%s"] * len(EVENT_COLUMNS)) + ")"
        events_sql = (
            f"INSERT INTO monitor_taskevent ({', '.join(EVENT_COLUMNS)}) VALUES {one_event}"  # noqa: S608
        )
        rows, events = [_naive(row) for row in rows], [_naive(row) for row in events]
        cursor = connection.cursor()
        began = time.perf_counter()
        for start in range(0, len(rows), PAGE_SIZE):
            cursor.executemany(tasks_sql, rows[start : start + PAGE_SIZE])
        for start in range(0, len(events), PAGE_SIZE):
            cursor.executemany(events_sql, events[start : start + PAGE_SIZE])
        return time.perf_counter() - began


def _naive(row: tuple) -> tuple:
    """The row with its times in UTC without a zone, as MariaDB's DATETIME columns take them."""
    return tuple(
        value.astimezone(UTC).replace(tzinfo=None) if isinstance(value, datetime) else value
        for value in row
    )
