"""Send a registered task to the broker: for the API's async-apply and for a retry."""

from __future__ import annotations

from minestrone.errors import reaching_the_broker


def celery_app():
    """The project's Celery application."""
    from minestrone.celery_app import app

    return app


def registered(name: str) -> bool:
    """True for a task the application registers (Celery's own celery.* tasks excluded)."""
    app = celery_app()
    app.loader.import_default_modules()
    return name in app.tasks and not name.startswith("celery.")


def send(
    name: str,
    args: list | tuple,
    kwargs: dict,
    routing_key: str | None = None,
    countdown: float | None = None,
) -> str:
    """Send the task now (no publish retries: a broker that is down is said at once); return
    the new task id. BrokerUnreachable when the broker cannot take it."""
    options = {"retry": False}
    if routing_key:
        options["routing_key"] = routing_key
    if countdown:
        options["countdown"] = countdown
    with reaching_the_broker():
        result = celery_app().tasks[name].apply_async(args=args, kwargs=kwargs, **options)
    return result.id
