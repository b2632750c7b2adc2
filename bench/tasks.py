"""The task of the camera's live benchmark: it does nothing, so the worker runs at full speed."""

from celery import shared_task


@shared_task(ignore_result=True)
def noop(n):
    """Return n."""
    return n
