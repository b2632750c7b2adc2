"""Django in the test process really talks to the session's PostgreSQL, not SQLite."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_django_uses_the_session_postgresql(postgres_server):
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database(), inet_server_port()")
        name, port = cursor.fetchone()
    assert name == "test_minestrone"
    assert port == postgres_server.port
