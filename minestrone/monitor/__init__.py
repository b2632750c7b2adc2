"""The monitor: task and worker states recorded from Celery's events, shown in the admin."""
