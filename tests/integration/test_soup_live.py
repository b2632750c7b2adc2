"""The tutorial's story on real servers: the editor queues a job, a real worker runs it, the
active-tasks page shows it while it runs."""

import re
import time

import pytest
from django.test import Client

from minestrone.soup import views
from minestrone.soup.activity import KnownWorkers
from minestrone.soup.tasks import lazy_job

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_supervisor_command_starts_a_worker_that_runs_lazy_job(start_worker):
    worker = start_worker("direct")
    lazy_job.apply_async(args=["direct call"], routing_key="tasks.direct")
    log = worker.wait_for_log("Lazy job direct call completed")
    assert "Starting the lazy job: direct call" in log


def test_the_editor_page_queues_a_job_that_a_real_worker_runs(client, start_worker):
    worker = start_worker("editor")
    response = client.post("/", {"job_name": "minestrone", "routing_key_name": "kitchen"})
    assert response.status_code == 302
    assert response["Location"] == "/active/"
    log = worker.wait_for_log("Lazy job minestrone completed")
    started = re.search(r"Task minestrone\.soup\.tasks\.lazy_job\[([0-9a-f-]+)\] received", log)
    assert started, log


INSPECT_TIMEOUT = 6.0


@pytest.fixture
def fresh_known_workers(monkeypatch, settings):
    settings.SOUP_INSPECT_TIMEOUT = INSPECT_TIMEOUT
    monkeypatch.setattr(views, "_known_workers", KnownWorkers())


def test_the_active_page_shows_a_running_job_with_its_routing_key(
    client, start_worker, fresh_known_workers
):
    worker = start_worker("active", env={"SOUP_LAZY_JOB_SECONDS": "30"})
    # queued from this browser: its session may read the job's argument, another may not
    assert (
        client.post("/", {"job_name": "slow soup", "routing_key_name": "slow"}).status_code == 302
    )
    worker.wait_for_log("Starting the lazy job: slow soup")
    began = time.monotonic()
    response = client.get("/active/")
    first = time.monotonic() - began
    html = response.content.decode()
    assert response.status_code == 200
    assert "active@integration" in html
    assert "minestrone.soup.tasks.lazy_job" in html
    assert "slow soup" in html
    assert "tasks.slow" in html
    assert "<time datetime=" in html
    # The first ask knows no worker and waits for the whole timeout; the second knows the one
    # worker and returns as soon as it has answered (on a loaded machine, a second or two).
    assert first >= INSPECT_TIMEOUT
    views.shared_activity.clear()  # ask again, not the snapshot shared for 2 s
    began = time.monotonic()
    assert "slow soup" in client.get("/active/").content.decode()
    assert time.monotonic() - began < INSPECT_TIMEOUT / 2
    other = Client().get("/active/").content.decode()
    assert "tasks.slow" in other and "active@integration" in other and "slow soup" not in other


def test_the_active_page_says_when_no_worker_answers(client, broker_url):
    response = client.get("/active/")
    assert response.status_code == 200
    assert "No worker answered" in response.content.decode()
