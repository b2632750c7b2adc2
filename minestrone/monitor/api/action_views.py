"""The API's actions: send a task, revoke one, set limits, and command a worker, through the
same remote control as the admin; each is recorded with who asked."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.utils import timezone

from minestrone.errors import BrokerUnreachable
from minestrone.monitor import retry, sending
from minestrone.monitor.admin_base import remote_control
from minestrone.monitor.api.endpoint import endpoint
from minestrone.monitor.api.errors import ApiError, BadParameter, NotFound, Unavailable
from minestrone.monitor.control import Outcome
from minestrone.monitor.errors import InvalidRate, RetryRefused
from minestrone.monitor.forms import BINDING_KEY, QUEUE_NAME
from minestrone.monitor.models import TaskEvent, TaskLimit, TaskState, WorkerState
from minestrone.monitor.rates import parse_rate

CHANGE_TASKS = "monitor.change_taskstate"
CHANGE_WORKERS = "monitor.change_workerstate"
SIGNALS = ("SIGTERM", "SIGKILL", "SIGINT", "SIGQUIT", "SIGHUP", "SIGUSR1")
MAX_COUNTDOWN = 7 * 24 * 3600.0
MAX_TIME_LIMIT = 7 * 24 * 3600.0


def control():
    """The remote control (replaced by a fake in the unit tests)."""
    return remote_control()


def _answer(what: str, command) -> JsonResponse:
    """Run a remote-control command: 200 with the replies; 409 if a worker answered with an
    error; 503 if the broker could not take it."""
    try:
        outcome: Outcome = command()
    except BrokerUnreachable as exc:
        raise Unavailable(f"{what}: not sent, the broker is unavailable ({exc})") from exc
    body = {"message": f"{what}: {outcome.describe()}", "replies": outcome.replies}
    if outcome.failed:
        return JsonResponse({"error": body["message"], "replies": outcome.replies}, status=409)
    return JsonResponse(body)


def _worker(hostname: str) -> str:
    if not WorkerState.objects.filter(hostname=hostname).exists():
        raise NotFound(f"no worker named {hostname!r}")
    return hostname


def _validated(params, name: str, validator) -> str:
    value = params.text(name, required=True)
    try:
        validator(value)
    except ValidationError as exc:
        raise BadParameter(name, " ".join(exc.messages)) from None
    return value


@endpoint("POST", CHANGE_TASKS, params=("args", "kwargs", "routing_key", "countdown"), acts=True)
def async_apply(request, caller, params, name: str) -> dict:
    """Send a task the application registers, with arguments, routing key and countdown."""
    args = params.json_value("args", list, [])
    kwargs = params.json_value("kwargs", dict, {})
    routing_key = params.text("routing_key")
    if routing_key is not None:
        try:
            BINDING_KEY(routing_key)
        except ValidationError:
            raise BadParameter("routing_key", "dot-separated words, such as tasks.soup") from None
    countdown = params.number("countdown", 0, MAX_COUNTDOWN)
    if not sending.registered(name):
        raise NotFound(f"no registered task named {name!r}")
    try:
        task_id = sending.send(name, args, kwargs, routing_key, countdown)
    except BrokerUnreachable as exc:
        raise Unavailable(f"not sent, the broker is unavailable ({exc})") from exc
    TaskEvent.objects.record(
        [
            {
                "task_id": task_id,
                "kind": "sent from the API",
                "timestamp": timezone.now(),
                "detail": f"by {caller.who}",
            }
        ]
    )
    return {"task-id": task_id, "state": "PENDING"}


@endpoint("POST", CHANGE_TASKS, acts=True)
def retry_task(request, caller, params, task_id: str) -> dict:
    """Send a failed, revoked or rejected task again (same name, arguments, routing key)."""
    task = TaskState.objects.visible().filter(pk=task_id).first()
    if task is None:
        raise NotFound(f"no task with id {task_id!r}")
    try:
        new_id = retry.retry(task, caller.who)
    except RetryRefused as exc:
        raise ApiError(f"not sent: {exc}", 409) from None
    except BrokerUnreachable as exc:
        raise Unavailable(f"not sent, the broker is unavailable ({exc})") from exc
    return {"task-id": new_id, "state": "PENDING"}


@endpoint("POST", CHANGE_TASKS, params=("terminate", "signal"), acts=True)
def revoke(request, caller, params, task_id: str) -> JsonResponse:
    """Revoke a task; with terminate=true, also end it if running (signal, SIGTERM by default)."""
    terminate = params.boolean("terminate")
    signal = params.choice("signal", SIGNALS) or "SIGTERM"
    if not TaskState.objects.filter(pk=task_id).exists():
        raise NotFound(f"no task with id {task_id!r}")
    chosen = signal if terminate else None
    online, holders = WorkerState.objects.online_now(), TaskState.objects.holders([task_id])
    response = _answer(
        f"Revoke {task_id}",
        lambda: control().revoke([task_id], chosen, expected=online, holders=holders),
    )
    verb = "revoke" if not terminate else ("kill" if signal == "SIGKILL" else "terminate")
    TaskEvent.objects.record_actions(
        [task_id], f"{verb} requested", caller.who, timezone.now(), chosen
    )
    return response


@endpoint("POST", CHANGE_TASKS, params=("ratelimit", "workername"), acts=True)
def rate_limit(request, caller, params, name: str) -> JsonResponse:
    """Set a task name's rate limit on every worker (or on one); 0 removes it."""
    try:
        rate = parse_rate(params.text("ratelimit", required=True))
    except InvalidRate as exc:
        raise BadParameter("ratelimit", str(exc)) from None
    host = params.text("workername")
    hosts = None if host is None else [_worker(host)]
    online = WorkerState.objects.online_now() if hosts is None else None
    response = _answer(
        f"Rate limit {rate} for {name}",
        lambda: control().rate_limit(name, rate, hosts, expected=online),
    )
    if response.status_code == 200:
        TaskLimit.objects.set_rate(name, rate, caller.who, timezone.now())
    return response


@endpoint("POST", CHANGE_TASKS, params=("soft", "hard", "workername"), acts=True)
def timeout(request, caller, params, name: str) -> JsonResponse:
    """Set a task name's soft and hard time limits (seconds; absent: none)."""
    soft = params.number("soft", 0, MAX_TIME_LIMIT)
    hard = params.number("hard", 0, MAX_TIME_LIMIT)
    if soft is not None and hard is not None and soft > hard:
        raise BadParameter("soft", "must not exceed hard")
    host = params.text("workername")
    hosts = None if host is None else [_worker(host)]
    online = WorkerState.objects.online_now() if hosts is None else None
    response = _answer(
        f"Time limits of {name}",
        lambda: control().time_limit(name, soft, hard, hosts, expected=online),
    )
    if response.status_code == 200:
        TaskLimit.objects.set_time(name, soft, hard, caller.who, timezone.now())
    return response


@endpoint("POST", CHANGE_WORKERS, acts=True)
def shutdown(request, caller, params, hostname: str) -> JsonResponse:
    """Warm shutdown of a worker (running tasks finish)."""
    host = _worker(hostname)
    return _answer(f"Shut down {host}", lambda: control().shutdown([host]))


@endpoint("POST", CHANGE_WORKERS, params=("n",), acts=True)
def pool_grow(request, caller, params, hostname: str) -> JsonResponse:
    """Start n more pool processes (1 by default)."""
    n = params.integer("n", 1, 1, 64)
    host = _worker(hostname)
    return _answer(f"Grow the pool of {host} by {n}", lambda: control().pool_grow(host, n))


@endpoint("POST", CHANGE_WORKERS, params=("n",), acts=True)
def pool_shrink(request, caller, params, hostname: str) -> JsonResponse:
    """Stop n pool processes (1 by default)."""
    n = params.integer("n", 1, 1, 64)
    host = _worker(hostname)
    return _answer(f"Shrink the pool of {host} by {n}", lambda: control().pool_shrink(host, n))


@endpoint("POST", CHANGE_WORKERS, params=("min", "max"), acts=True)
def autoscale(request, caller, params, hostname: str) -> JsonResponse:
    """Set the autoscaler's bounds (the worker must run with --autoscale)."""
    high = params.integer("max", None, 1, 256, required=True)
    low = params.integer("min", None, 0, 256, required=True)
    if low > high:
        raise BadParameter("min", "must not exceed max")
    host = _worker(hostname)
    return _answer(
        f"Autoscale {host} between {low} and {high}", lambda: control().autoscale(host, high, low)
    )


@endpoint("POST", CHANGE_WORKERS, params=("queue", "routing_key"), acts=True)
def add_consumer(request, caller, params, hostname: str) -> JsonResponse:
    """Consume from a queue, bound to the topic exchange by routing_key (the queue's name by
    default)."""
    queue = _validated(params, "queue", QUEUE_NAME)
    given = params.text("routing_key")
    key = given or queue
    try:
        BINDING_KEY(key)
    except ValidationError:
        if given:
            raise BadParameter("routing_key", "dot-separated words, “*” or “#”") from None
        raise BadParameter(
            "queue", "is not a binding key (dot-separated words): give a routing_key"
        ) from None
    host = _worker(hostname)
    return _answer(
        f"{host} consumes from {queue}",
        lambda: control().add_consumer(host, queue, settings.CELERY_TASK_DEFAULT_EXCHANGE, key),
    )


@endpoint("POST", CHANGE_WORKERS, params=("queue",), acts=True)
def cancel_consumer(request, caller, params, hostname: str) -> JsonResponse:
    """Stop consuming from a queue."""
    queue = _validated(params, "queue", QUEUE_NAME)
    host = _worker(hostname)
    return _answer(
        f"{host} stops consuming from {queue}", lambda: control().cancel_consumer(host, queue)
    )
