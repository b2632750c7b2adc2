"""Celery on a real Redis: the tutorial's routing (exchange `default`, binding `tasks.#`), a worker
running the editor's job, queue depths (ready and unacknowledged), remote control, and a job
given back when its pool process dies."""

import json
import os
import signal
import subprocess
import sys
import time
from urllib.parse import unquote, urlsplit

import pytest
from kombu import Connection, Exchange, Queue

from minestrone.celery_app import app as celery_app
from minestrone.monitor.broker import REDIS_KEYS, queue_depths
from minestrone.soup.routing import routing_key_for
from minestrone.soup.tasks import lazy_job

from . import kinds
from .conftest import TEST_DATABASE, drain, wait_for_workers
from .pausing import celery_pool, signal_all

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def broker_url(redis_db_url):
    """A Redis database of its own for the module; the Celery app here points at it."""
    with kinds.celery_on(redis_db_url):
        yield redis_db_url


@pytest.fixture
def environment_file(tmp_path, postgres_server, broker_url):
    """The platform's environment.json for subprocesses: the test database and a redis
    service named `queue`."""
    data = {
        "DOTCLOUD_DB_SQL_LOGIN": postgres_server.user,
        "DOTCLOUD_DB_SQL_PASSWORD": postgres_server.password,
        "DOTCLOUD_DB_SQL_HOST": postgres_server.host,
        "DOTCLOUD_DB_SQL_PORT": str(postgres_server.port),
        "DJANGO_DB_NAME": TEST_DATABASE,
        "DJANGO_SECRET_KEY": kinds.SECRET_KEY,
        **kinds.redis_variables(broker_url),
    }
    path = tmp_path / "environment.json"
    path.write_text(json.dumps(data, indent=4))
    path.chmod(0o600)
    return path


def test_a_task_sent_with_tasks_x_reaches_queue_default_through_exchange_default(channel):
    assert celery_app.connection_for_write().transport.driver_type == "redis"
    lazy_job.apply_async(args=["soup"], routing_key="tasks.x")
    [message] = drain(channel, "default")
    assert message.delivery_info["exchange"] == "default"
    assert message.delivery_info["routing_key"] == "tasks.x"
    assert message.headers["task"] == "minestrone.soup.tasks.lazy_job"


def test_kombu_emulates_the_topic_binding_as_rabbitmq_routes_the_forms_keys(channel):
    urgent = Queue("urgent-only", Exchange("default", type="topic"), routing_key="tasks.urgent.#")(
        channel
    )
    urgent.declare()
    try:
        keys = [routing_key_for(name) for name in ("urgent.soup", "urgent.a.b", "other")]
        for key in [*keys, "tasks.urgentish", "jobs.x"]:
            lazy_job.apply_async(args=[key], routing_key=key)
        routed = sorted(m.delivery_info["routing_key"] for m in drain(channel, "urgent-only"))
        assert routed == ["tasks.urgent.a.b", "tasks.urgent.soup"]
        default = sorted(m.delivery_info["routing_key"] for m in drain(channel, "default"))
        assert default == [
            "tasks.other",
            "tasks.urgent.a.b",
            "tasks.urgent.soup",
            "tasks.urgentish",
        ]
    finally:
        urgent.delete()


def test_queue_depths_on_redis_count_ready_and_unacknowledged_jobs(channel):
    for n in range(3):
        lazy_job.apply_async(args=[f"d{n}"], routing_key="tasks.depth")
    depths = queue_depths(celery_app)
    assert depths.source == REDIS_KEYS
    [default] = [depth for depth in depths if depth.name == "default"]
    assert (default.ready, default.unacked, default.consumers, default.missing) == (
        3,
        0,
        None,
        False,
    )
    taken = channel.basic_get("default", no_ack=False)  # held, as a worker holds a job
    assert taken is not None
    [default] = [depth for depth in queue_depths(celery_app) if depth.name == "default"]
    assert (default.ready, default.unacked) == (2, 1)
    taken.ack()
    [default] = [depth for depth in queue_depths(celery_app) if depth.name == "default"]
    assert (default.ready, default.unacked) == (2, 0)


def test_a_worker_on_redis_runs_the_editors_job_and_answers_remote_control(
    client, start_worker, broker_url
):
    password = unquote(urlsplit(broker_url).password or "")
    assert len(password) >= 8
    worker = start_worker("redis")
    assert "redis://" in worker.log() and password not in worker.log()
    response = client.post("/", {"job_name": "redis soup", "routing_key_name": "kitchen"})
    assert response.status_code == 302
    worker.wait_for_log("Lazy job redis soup completed")
    replies = celery_app.control.inspect(destination=["redis@integration"], timeout=5)
    [queues] = replies.active_queues()["redis@integration"]
    assert (queues["name"], queues["exchange"]["name"], queues["routing_key"]) == (
        "default",
        "default",
        "tasks.#",
    )
    conf = replies.conf(with_defaults=False)["redis@integration"]
    assert conf["CELERY_BROKER_URL"].startswith("redis://")
    for reply in (conf, replies.report(), replies.stats()):
        assert password not in json.dumps(reply)
    answer = celery_app.control.rate_limit(
        lazy_job.name, "10/m", destination=["redis@integration"], reply=True, timeout=5
    )
    assert answer and "redis@integration" in answer[0]


def test_a_job_whose_pool_process_dies_is_given_back_and_runs_again(start_worker):
    worker = start_worker("lost", env={"SOUP_LAZY_JOB_SECONDS": "5"})
    lazy_job.apply_async(args=["lost soup"], routing_key="tasks.lost")
    worker.wait_for_log("Starting the lazy job: lost soup")
    paused = celery_pool(worker.process.pid)
    signal_all(paused, signal.SIGSTOP)  # the job stays mid-run while the worker is asked
    try:
        inspect = celery_app.control.inspect(destination=["lost@integration"], timeout=5)
        pool = inspect.stats()["lost@integration"]["pool"]["processes"]
        [job] = inspect.active()["lost@integration"]
        os.kill(job["worker_pid"], signal.SIGKILL)
    finally:
        signal_all(paused, signal.SIGCONT)
    assert job["worker_pid"] in pool
    log = worker.wait_for_log("Lazy job lost soup completed", timeout=60)
    assert log.count("Starting the lazy job: lost soup") == 2
    wait_for_workers(["lost@integration"])


TAKE_AND_DIE = """
import os, sys
from kombu import Connection
with Connection(sys.argv[1]) as connection:
    message = connection.default_channel.basic_get("default", no_ack=False)
    assert message is not None
    print("taken", flush=True)
    os._exit(0)  # no acknowledgement, no restore: a worker killed mid-job
"""


def test_a_job_held_by_a_dead_worker_waits_in_the_unacked_hash_until_restored(channel, broker_url):
    lazy_job.apply_async(args=["orphan soup"], routing_key="tasks.orphan")
    taker = subprocess.run(
        [sys.executable, "-c", TAKE_AND_DIE, broker_url], capture_output=True, text=True, timeout=60
    )
    assert taker.stdout.strip() == "taken", taker.stderr
    [default] = [depth for depth in queue_depths(celery_app) if depth.name == "default"]
    assert (default.ready, default.unacked) == (0, 1)  # neither lost nor given to another
    # what a worker's consumer does now and then, once the visibility timeout has passed (600 s
    # in the app; 1 s here); like a worker, it knows the exchange's type, which kombu routes
    # the restored job by (Redis does not keep it)
    with Connection(broker_url, transport_options={"visibility_timeout": 1}) as restorer:
        Exchange("default", type="topic")(restorer.default_channel).declare()
        time.sleep(1.5)
        restorer.default_channel.qos.restore_visible(num=10, interval=1)
    [default] = [depth for depth in queue_depths(celery_app) if depth.name == "default"]
    assert (default.ready, default.unacked) == (1, 0)
    [message] = drain(channel, "default")
    assert message.delivery_info["routing_key"] == "tasks.orphan"
