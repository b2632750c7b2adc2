"""Fixtures of the monitor's integration tests: the camera and a worker running the test tasks."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from minestrone.celery_app import app as celery_app
from minestrone.monitor.models import TaskState, WorkerState
from tests.pace import within

TASKS_MODULE = "tests.integration.monitor.tasks"


def task_name(short: str) -> str:
    """The registered name of a test task."""
    return f"{TASKS_MODULE}.{short}"


def send(short: str, *args, routing_key: str = "tasks.monitor", **options) -> str:
    """Queue a test task by name (this process does not import the tasks); return its id."""
    return celery_app.send_task(
        task_name(short), args=list(args), routing_key=routing_key, **options
    ).id


def wait_until(
    condition: Callable[[], object], timeout: float | None = None, what: str = ""
) -> object:
    """Poll condition() until it returns something true; fail after timeout (by default 30 s
    at the machine's pace)."""
    timeout = within(30) if timeout is None else timeout
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what or condition}")
        time.sleep(0.2)


def task_states(ids) -> dict[str, str]:
    """{task id: state} of the recorded tasks among ids."""
    return dict(TaskState.objects.filter(pk__in=list(ids)).values_list("task_id", "state"))


def wait_for_states(expected: dict[str, str], timeout: float | None = None) -> None:
    """Wait until every task has the expected state (by default for 40 s at the machine's
    pace); fail showing what was recorded."""
    deadline = time.monotonic() + (within(40) if timeout is None else timeout)
    while task_states(expected) != expected:
        if time.monotonic() > deadline:
            pytest.fail(f"expected {expected}, recorded {task_states(expected)}")
        time.sleep(0.2)


def worker_online(hostname: str) -> bool:
    """True when the worker's row says ONLINE now."""
    worker = WorkerState.objects.filter(hostname=hostname).first()
    return worker is not None and worker.is_online()


@pytest.fixture(autouse=True)
def replies_waited_for_at_the_machines_pace(settings):
    """A loaded worker can take more than the default second to answer a command; broadcasts
    to all return once the online workers answered, so a longer wait costs only a silent one."""
    settings.MONITOR_CONTROL_TIMEOUT = within(5)


@pytest.fixture
def camera(manage):
    """Start `manage.py celerycam` (a snapshot every half second) and wait until it listens.

    The camera's log is printed at teardown (pytest shows it when the test failed).
    """
    started = []

    def start(*args: str):
        process = manage("celerycam", "-F", "0.5", "-l", "debug", *args)
        started.append(process)
        process.wait_for_log("Connected to amqp://", timeout=60)
        return process

    yield start
    for process in started:
        print(f"--- {' '.join(process.args)} ---\n{process.log()[-6000:]}")


@pytest.fixture
def monitored_worker(start_worker):
    """Start `manage.py celeryd -E -l info -c 2 -n <name>@integration -I <test tasks>`."""

    def start(name: str = "w1", *extra: str, env: dict | None = None):
        return start_worker(name, "-I", TASKS_MODULE, *extra, env=env)

    return start
