"""Tasks for the monitor's integration tests, loaded by the worker with `-I` (celeryd's include)."""

import os
import time

from celery import shared_task


@shared_task(ignore_result=True)
def add(x, y):
    """Succeed with x + y."""
    return x + y


@shared_task(ignore_result=True)
def boom(message):
    """Fail with a ValueError."""
    raise ValueError(message)


@shared_task(bind=True, ignore_result=True, max_retries=3)
def flaky(self):
    """Fail once, be retried, then succeed."""
    if self.request.retries == 0:
        raise self.retry(countdown=0.2, exc=RuntimeError("first attempt fails"))
    return "second attempt"


@shared_task(ignore_result=True)
def sleepy(seconds):
    """Sleep, so that there is time to act on a running task."""
    time.sleep(seconds)
    return seconds


@shared_task(ignore_result=True)
def dies(path):
    """Note the delivery in the file at path, then kill the pool process (as an out-of-memory
    job would), unless a file path + ".ok" exists: then succeed."""
    with open(path, "a") as deliveries:
        deliveries.write("delivered\n")
    if not os.path.exists(path + ".ok"):
        os._exit(1)
    return "survived"
