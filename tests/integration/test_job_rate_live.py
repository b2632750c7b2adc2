"""The throttle on real PostgreSQL: the anonymous job rate per client network, the API's
requests per minute, both counted in one table by every process at once (as gunicorn's workers
do), and the cleanup. Nothing is sent to the broker: other tests count its queues."""

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client, override_settings
from django.utils import timezone

from minestrone.monitor.api import throttle as api_throttle
from minestrone.monitor.api.errors import ApiError
from minestrone.monitor.store import DatabaseStore
from minestrone.soup import throttle as soup_throttle
from minestrone.soup import views
from minestrone.throttle.models import Hit

pytestmark = pytest.mark.django_db(transaction=True)

PROCESSES = 4
ATTEMPTS = 4  # per process and limit: 16 requests at once for 5 places
LIMIT = 5
NETWORK = "2001:db8:77:77::"
TOKEN = "token-77"
# Run by `manage.py shell -c` in each process: wait for the go, then try the job rate and the
# API's throttle as fast as it can; print how many requests each let through.
STORM = """
import json, pathlib, time
from django.conf import settings
from django.db import connection
from django.utils import timezone
from minestrone.monitor.api import throttle as api
from minestrone.monitor.api.errors import ApiError
from minestrone.soup import throttle as soup

settings.SOUP_ANONYMOUS_JOB_RATE = "{limit}/h"
settings.MONITOR_API_REQUESTS_PER_MINUTE = {limit}
connection.ensure_connection()
pathlib.Path("{ready}").touch()
while not pathlib.Path("{go}").exists():
    time.sleep(0.01)
jobs = calls = 0
for _ in range({attempts}):
    jobs += soup.seconds_to_wait("{network}", timezone.now()) == 0
    try:
        api.check("{token}")
        calls += 1
    except ApiError:
        pass
print("STORM " + json.dumps({{"jobs": jobs, "calls": calls}}), flush=True)
"""


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    """Jobs taken as queued, without a message."""
    monkeypatch.setattr(
        views.EditorView,
        "queue_job",
        staticmethod(lambda name, key: "0" * 8 + "-0000" * 3 + "-" + "0" * 12),
    )


def post_job(address: str):
    return Client().post(
        "/", {"job_name": "rate", "routing_key_name": "rate"}, HTTP_X_FORWARDED_FOR=address
    )


@override_settings(SOUP_ANONYMOUS_JOB_RATE="2/h", MINESTRONE_TRUSTED_PROXIES=1)
def test_an_ipv6_64_is_held_to_the_rate_with_retry_after():
    assert post_job("2001:db8:9:9::1").status_code == 302
    assert post_job("2001:db8:9:9:1:2:3:4").status_code == 302
    refused = post_job("2001:db8:9:9:ffff::1")
    assert refused.status_code == 429 and 3500 < int(refused["Retry-After"]) <= 3600
    assert post_job("2001:db8:9:a::1").status_code == 302
    assert set(Hit.objects.values_list("key", flat=True)) == {"2001:db8:9:9::", "2001:db8:9:a::"}


def _storm(manage, tmp_path) -> list[dict]:
    """Start the processes, let them go at once, and return what each let through."""
    processes = []
    for number in range(PROCESSES):
        code = STORM.format(
            limit=LIMIT,
            attempts=ATTEMPTS,
            network=NETWORK,
            token=TOKEN,
            ready=tmp_path / f"ready-{number}",
            go=tmp_path / "go",
        )
        processes.append(manage("shell", "-c", code))
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"ready-{n}").exists() for n in range(PROCESSES)):
        for process in processes:
            assert process.process.poll() is None, process.log()
        assert time.monotonic() < deadline, [process.log() for process in processes]
        time.sleep(0.1)
    (tmp_path / "go").touch()
    results = []
    for process in processes:
        log = process.wait_for_log("STORM ", timeout=60)
        results.append(json.loads(log.split("STORM ", 1)[1].splitlines()[0]))
    return results


@override_settings(SOUP_ANONYMOUS_JOB_RATE=f"{LIMIT}/h", MONITOR_API_REQUESTS_PER_MINUTE=LIMIT)
def test_processes_at_once_share_one_count_and_never_let_one_too_many_in(manage, tmp_path):
    results = _storm(manage, tmp_path)
    jobs = sum(result["jobs"] for result in results)
    calls = sum(result["calls"] for result in results)
    assert 1 <= jobs <= LIMIT and 1 <= calls <= LIMIT, results
    # the places a storm left (two refused at once may both lose one) are taken one by one
    later_jobs = [soup_throttle.seconds_to_wait(NETWORK, timezone.now()) == 0 for _ in range(6)]
    assert jobs + sum(later_jobs) == LIMIT and not later_jobs[-1]
    later_calls = 0
    for _ in range(6):
        try:
            api_throttle.check(TOKEN)
            later_calls += 1
        except ApiError as refused:
            assert refused.status == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert calls + later_calls == LIMIT
    counted = Hit.objects.filter(key__in=(NETWORK, TOKEN))
    assert counted.count() == 2 * LIMIT  # the refused requests left no row


def test_the_cleanup_deletes_expired_sessions_and_spent_counts():
    now = datetime.now(UTC)
    Session.objects.create(session_key="old", session_data="", expire_date=now - timedelta(1))
    Session.objects.create(session_key="new", session_data="", expire_date=now + timedelta(1))
    Hit.objects.create(scope=soup_throttle.SCOPE, key="198.51.100.7", at=now - timedelta(hours=2))
    Hit.objects.create(scope=api_throttle.SCOPE, key=TOKEN, at=now - timedelta(hours=2))
    DatabaseStore().cleanup(now)
    assert list(Session.objects.values_list("session_key", flat=True)) == ["new"]
    assert not Hit.objects.exists()
