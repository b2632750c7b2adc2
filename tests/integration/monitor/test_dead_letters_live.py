"""Poison jobs on a real RabbitMQ: a job that kills its pool process every time is delivered
the delivery limit's number of times more, then dead-lettered (not lost, no worker slot held);
the API lists it with its name, arguments, routing key, deliveries and last worker, sends it
back (a new id, linked both ways) or discards it."""

import json

import pytest
from django.contrib.auth.models import User
from django.test import Client

import tests.integration.monitor.tasks  # noqa: F401 (this process registers the test tasks)
from minestrone.celery_app import app as celery_app
from minestrone.monitor import dead_letters
from minestrone.monitor.api.tokens import ApiToken
from minestrone.monitor.broker import queue_depths
from tests.integration.conftest import point_celery_at
from tests.integration.monitor.conftest import send, task_name, wait_for_states, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
HOST = "poison@integration"
LIMIT = 2  # two redeliveries: three deliveries in all, each killing a pool process


@pytest.fixture(scope="module", autouse=True)
def small_limit(broker_url):
    """This process and the worker declare the quorum queue with the same, small limit."""
    from django.conf import settings

    previous = settings.MINESTRONE_DELIVERY_LIMIT
    settings.MINESTRONE_DELIVERY_LIMIT = LIMIT
    point_celery_at(broker_url)
    yield
    settings.MINESTRONE_DELIVERY_LIMIT = previous
    point_celery_at(broker_url)


@pytest.fixture
def api():
    """A client with a staff token allowed to act on tasks."""
    owner = User.objects.create_superuser("ops", password="pw")
    _, token = ApiToken.objects.issue(owner, "integration")
    client = Client(enforce_csrf_checks=True)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def call(method: str, path: str, **params):
        if method == "GET":
            return client.get(path, params, **auth)
        return client.post(path, json.dumps(params), content_type="application/json", **auth)

    return call


def dead(total: int):
    letters, found = dead_letters.listing()
    return letters if found == total else None


def test_a_poison_job_is_dead_lettered_then_sent_back_or_discarded(
    camera, monitored_worker, api, admin_client, tmp_path
):
    camera()
    monitored_worker("poison", env={"MINESTRONE_DELIVERY_LIMIT": str(LIMIT)})
    deliveries = tmp_path / "poison"
    poison = send("dies", str(deliveries), routing_key="tasks.poison")

    [letter] = wait_until(lambda: dead(1), timeout=60, what="the poison job dead-lettered")
    assert deliveries.read_text().count("delivered") == LIMIT + 1
    # the worker's slots are free: a job sent now runs at once
    healthy = send("add", 2, 3)
    wait_for_states({healthy: "SUCCESS"}, timeout=30)

    body = api("GET", "/api/dead-letters").json()
    assert body["total"] == 1
    [shown] = body["dead-letters"]
    assert shown["uuid"] == poison and shown["name"] == task_name("dies")
    assert shown["args"] == repr((str(deliveries),)) or str(deliveries) in shown["args"]
    assert (shown["routing_key"], shown["deliveries"]) == ("tasks.poison", LIMIT + 1)
    assert (shown["reason"], shown["worker"], shown["retryable"]) == ("delivery_limit", HOST, True)

    # the queue pages and metrics watch the dead-letter queue beside the quorum queue
    depths = {depth.name: depth.ready for depth in queue_depths(celery_app)}
    assert depths == {"default.quorum": 0, "default.dead-letters": 1}

    # the admin's page shows it too, and looking twice lost nothing
    page = admin_client.get("/admin/monitor/taskstate/dead-letters/").content.decode()
    assert f'data-task-id="{poison}"' in page and "tasks.poison" in page and HOST in page
    assert [one.task_id for one in dead(1)] == [poison]

    # send it back: it now survives; the two are linked both ways
    (tmp_path / "poison.ok").touch()
    again = api("POST", f"/api/dead-letters/{poison}/retry").json()["task-id"]
    assert again != poison
    wait_for_states({again: "SUCCESS"}, timeout=30)
    info = api("GET", f"/api/task/info/{again}").json()
    assert (info["retry_of"], info["routing_key"]) == (poison, "tasks.poison")
    assert api("GET", f"/api/task/info/{poison}").json()["retried_as"] == [again]
    assert dead(0) == []

    # discard another one: gone for good; a second discard is a 404
    other = send("dies", str(tmp_path / "other"))
    wait_until(lambda: dead(1), timeout=60, what="the second poison job dead-lettered")
    discarded = api("POST", f"/api/dead-letters/{other}/discard")
    assert discarded.status_code == 200 and discarded.json()["discarded"]["uuid"] == other
    assert dead(0) == []
    assert api("POST", f"/api/dead-letters/{other}/discard").status_code == 404
