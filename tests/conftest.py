"""Test-suite plugins: real backing services (PostgreSQL, RabbitMQ) as fixtures."""

import os

import pytest
from hypothesis import HealthCheck, settings

# Property tests check what any input gives, never how fast: no per-example deadline and no
# "generation too slow" failure when the machine is busy (CI's two cores run servers meanwhile).
settings.register_profile("minestrone", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("minestrone")

pytest_plugins = ["backing_services.pytest_plugin", "tests.repo_guard", "tests.scheduling"]


def pytest_configure(config):
    """Measure the machine's pace once, before pytest-xdist starts workers that share it."""
    if not hasattr(config, "workerinput"):
        from tests.pace import share_pace

        share_pace()


def pytest_report_header(config):
    """Say how much the time bounds of the integration tests are stretched on this machine."""
    from tests.pace import WORKERS_VARIABLE, contention, pace

    workers = getattr(config.option, "numprocesses", None) or 0
    shared = contention({**os.environ, WORKERS_VARIABLE: str(workers)} if workers else None)
    return (
        f"machine pace: {pace():.2f}, test processes per core: {shared:.2f} (time bounds "
        "stretched by both; tests/pace.py)"
    )


def pytest_collection_modifyitems(config, items):
    """Refuse one run mixing unit and integration tests: they set Django's database up apart."""
    kinds = {part for item in items for part in item.path.parts if part in ("unit", "integration")}
    if len(kinds) > 1:
        raise pytest.UsageError(
            "Run tests/unit and tests/integration in separate pytest runs (each sets up its own "
            "database: SQLite in memory or the real PostgreSQL); `bin/test` does both."
        )


@pytest.fixture(autouse=True)
def _fresh_activity_snapshot():
    """Each test asks the workers itself: no snapshot of the active page is shared between tests."""
    yield
    from minestrone.soup.views import shared_activity

    shared_activity.clear()
