"""Why the Tasks page shows nothing new: the usual causes, told to the admin's user."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.humanize.templatetags.humanize import naturaltime

WORKER_COMMAND = "python minestrone/manage.py celeryd -E -l info"
CAMERA_COMMAND = "python minestrone/manage.py celerycam"


def idle_notice(
    now: datetime,
    quiet_after: timedelta,
    newest_task_event: datetime | None,
    newest_heartbeat: datetime | None,
    online_workers: int,
) -> str | None:
    """Return an explanation when no task event arrived within `quiet_after`, else None."""
    if newest_task_event is not None and now - newest_task_event < quiet_after:
        return None
    since = f"since {naturaltime(newest_task_event)}" if newest_task_event is not None else "at all"
    heard_lately = newest_heartbeat is not None and now - newest_heartbeat < quiet_after
    if online_workers or heard_lately:
        return (
            f"No task event was recorded {since}, though workers are online. Either no task "
            "was queued lately, or the workers do not send task events: start them with -E "
            f"({WORKER_COMMAND}) or use the action “Enable events” on the Workers page."
        )
    return (
        f"No task event was recorded {since}, and no worker heartbeat either. The camera "
        f"records what this page shows: check that it runs ({CAMERA_COMMAND}), and that at "
        f"least one worker runs with events on ({WORKER_COMMAND})."
    )
