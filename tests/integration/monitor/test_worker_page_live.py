"""A worker's page on real servers: what the worker says about itself, commands with its real
replies, and limits applied again by the camera when the worker restarts."""

import pytest

from minestrone.celery_app import app as celery_app
from minestrone.monitor.models import TaskLimit, WorkerState
from tests.integration.monitor.conftest import task_name, wait_until
from tests.pace import within

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

WORKERS = "/admin/monitor/workerstate/"


def registered_limit(host: str, name: str) -> str | None:
    replies = celery_app.control.inspect(destination=[host], timeout=within(5)).registered(
        "rate_limit"
    )
    for line in (replies or {}).get(host, []):
        if line.startswith(name + " "):
            return line
    return None


def test_worker_page_commands_and_limits_kept_across_a_restart(
    camera, monitored_worker, admin_client
):
    camera()
    host = "l1@integration"
    worker = monitored_worker("l1")
    row = wait_until(lambda: WorkerState.objects.filter(hostname=host).first(), what="l1's row")
    page = admin_client.get(f"{WORKERS}{row.pk}/change/").content.decode()
    assert "TaskPool, 2 processes" in page
    # the queue it consumes, bound as the tutorial binds it (default.quorum on RabbitMQ)
    assert f"<code>{celery_app.conf.task_default_queue}</code> (tasks.#)" in page
    assert task_name("add") in page

    def command(**data):
        response = admin_client.post(f"{WORKERS}{row.pk}/command/", data, follow=True)
        return [str(m) for m in response.context["messages"]]

    assert command(command="pool_grow", n="1") == [f"Grow the pool by 1: {host}: pool will grow."]
    assert command(command="pool_shrink", n="1") == [
        f"Shrink the pool by 1: {host}: pool will shrink."
    ]
    [added] = command(command="add_consumer", queue="reports", binding_key="tasks.reports.#")
    assert added == f"Consume from reports: {host}: add consumer reports."
    [message] = command(command="rate_limit", task_name=task_name("add"), rate="7/m")
    assert message.endswith("new rate limit set successfully.")
    assert TaskLimit.objects.get(name=task_name("add")).rate_limit == "7/m"
    assert "rate_limit=7/m" in registered_limit(host, task_name("add"))

    # a restarted worker forgets the limit; the camera applies it again
    worker.stop()
    monitored_worker("l1")
    wait_until(
        lambda: "rate_limit=7/m" in (registered_limit(host, task_name("add")) or ""),
        timeout=60,
        what="the rate limit applied again after the restart",
    )
