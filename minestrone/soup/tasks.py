"""The jobs the workers run."""

import time

from celery import shared_task
from celery.utils.log import get_task_logger
from django.conf import settings

logger = get_task_logger(__name__)


@shared_task(ignore_result=True)
def lazy_job(name: str) -> None:
    """Pretend to work for SOUP_LAZY_JOB_SECONDS (5 s in the tutorial), logging start and end."""
    logger.info("Starting the lazy job: %s", name)
    time.sleep(settings.SOUP_LAZY_JOB_SECONDS)
    logger.info("Lazy job %s completed", name)
