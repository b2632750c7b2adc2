"""The API's OpenAPI 3.1 document, served at /api/openapi.json (no login: it holds no data)."""

from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.http import require_GET

from minestrone.monitor import states
from minestrone.monitor.api.action_views import SIGNALS
from minestrone.monitor.api.dead_letter_views import MAX_LIMIT as DEAD_MAX
from minestrone.monitor.api.read_views import MAX_LIMIT, MAX_OFFSET

NULLABLE_STRING = {"type": ["string", "null"]}
NULLABLE_NUMBER = {"type": ["number", "null"]}
NULLABLE_INTEGER = {"type": ["integer", "null"]}
TIME = {
    "type": "string",
    "description": "YYYY-MM-DD HH:MM (UTC), ISO 8601, or seconds since 1970",
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _query(name: str, schema: dict, description: str, required: bool = False) -> dict:
    where = "path" if required else "query"
    return {
        "name": name,
        "in": where,
        "required": required,
        "description": description,
        "schema": schema,
    }


def _path(name: str, description: str) -> dict:
    return _query(name, {"type": "string"}, description, required=True)


ERRORS = {
    "400": _json(_ref("Error"), "A parameter is missing, unknown or malformed"),
    "401": _json(_ref("Error"), "No token, or an unknown or revoked one"),
    "403": _json(_ref("Error"), "Not allowed (permission, read-only token, CSRF)"),
    "429": _json(_ref("Error"), "Too many requests for this token"),
}
ACTION_ERRORS = {
    **ERRORS,
    "404": _json(_ref("Error"), "No such task or worker"),
    "409": _json(_ref("Error"), "A worker answered with an error; or not retryable"),
    "503": _json(_ref("Error"), "The broker is unavailable: nothing was sent"),
}


def _get(summary: str, schema: dict, parameters: list | None = None, extra=None) -> dict:
    responses = {"200": _json(schema), **ERRORS, **(extra or {})}
    return {"get": {"summary": summary, "parameters": parameters or [], "responses": responses}}


def _post(summary: str, parameters: list, schema: dict | None = None) -> dict:
    return {
        "post": {
            "summary": summary,
            "parameters": parameters,
            "responses": {"200": _json(schema or _ref("Outcome")), **ACTION_ERRORS},
        }
    }


WORKER = _path("hostname", "The worker's hostname, such as celery@host")
TASK_NAME = _path("name", "A task name")
N = _query("n", {"type": "integer", "minimum": 1, "maximum": 64}, "How many processes")
QUEUE = _query("queue", {"type": "string"}, "A queue name")

SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string"}, "parameter": {"type": "string"}},
    },
    "Outcome": {
        "type": "object",
        "required": ["message", "replies"],
        "properties": {
            "message": {"type": "string"},
            "replies": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    },
    "Task": {
        "type": "object",
        "required": ["uuid", "state", "timestamp"],
        "properties": {
            "uuid": {"type": "string"},
            "name": NULLABLE_STRING,
            "state": {"type": "string", "enum": list(states.ALL_STATES)},
            **{key: NULLABLE_STRING for key in ("args", "kwargs", "result", "exception")},
            **{key: NULLABLE_STRING for key in ("traceback", "worker", "exchange")},
            **{key: NULLABLE_STRING for key in ("routing_key", "queue", "eta", "expires")},
            "revocation": NULLABLE_STRING,
            "timestamp": {"type": "number"},
            **{key: NULLABLE_NUMBER for key in ("sent", "received", "started", "finished")},
            **{key: NULLABLE_NUMBER for key in ("succeeded", "failed", "revoked", "runtime")},
            "retries": NULLABLE_INTEGER,
            "retry_of": NULLABLE_STRING,
            "retried_as": {"type": "array", "items": {"type": "string"}},
        },
        "additionalProperties": False,
    },
    "Worker": {
        "type": "object",
        "required": ["hostname", "status"],
        "properties": {
            "hostname": {"type": "string"},
            "status": {"type": "boolean", "description": "Online (heartbeat not expired)"},
            "last_heartbeat": NULLABLE_NUMBER,
            "heartbeat_expires": NULLABLE_NUMBER,
            **{key: NULLABLE_INTEGER for key in ("pid", "active", "processed")},
            **{key: NULLABLE_STRING for key in ("loadavg", "sw_ident", "sw_ver", "sw_sys")},
        },
        "additionalProperties": False,
    },
    "Queue": {
        "type": "object",
        "required": ["name", "messages", "consumers"],
        "properties": {
            "name": {"type": "string"},
            "messages": {"type": "integer"},
            "consumers": NULLABLE_INTEGER,  # None: unknown (Redis)
            "unacked": NULLABLE_INTEGER,
            "sampled": {"type": "number"},
        },
        "additionalProperties": False,
    },
    "DeadLetter": {
        "type": "object",
        "required": ["uuid", "name", "args", "kwargs", "routing_key", "retryable"],
        "properties": {
            **{key: NULLABLE_STRING for key in ("uuid", "name", "reason", "queue", "worker")},
            **{key: {"type": "string"} for key in ("args", "kwargs", "routing_key")},
            "dead_lettered": NULLABLE_NUMBER,
            "deliveries": {
                **NULLABLE_INTEGER,
                "description": "Times delivered before it was dead-lettered",
            },
            "retryable": {"type": "boolean"},
        },
        "additionalProperties": False,
    },
    "Sent": {
        "type": "object",
        "required": ["task-id", "state"],
        "properties": {"task-id": {"type": "string"}, "state": {"type": "string"}},
    },
}

TASK_FILTERS = [
    _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}, "At most (100)"),
    _query("offset", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}, "Skip (0)"),
    _query("state", {"type": "string", "enum": list(states.ALL_STATES)}, "Only this state"),
    _query("taskname", {"type": "string"}, "Only this task name"),
    _query("workername", {"type": "string"}, "Only this worker"),
    _query("routing_key", {"type": "string"}, "Only this routing key"),
    _query("received_start", TIME, "Received at or after"),
    _query("received_end", TIME, "Received before"),
    _query("started_start", TIME, "Started at or after"),
    _query("started_end", TIME, "Started before"),
]

PATHS = {
    "/api/workers": _get(
        "Workers as last recorded, by hostname (status=true: only whether online)",
        {
            "type": "object",
            "additionalProperties": {"oneOf": [_ref("Worker"), {"type": "boolean"}]},
        },
        [
            _query("workername", {"type": "string"}, "Only this worker"),
            _query("status", {"type": "boolean"}, "Only whether each is online"),
        ],
        {"404": _json(_ref("Error"), "No such worker")},
    ),
    "/api/tasks": _get(
        "Tasks by id, newest event first",
        {"type": "object", "additionalProperties": _ref("Task")},
        TASK_FILTERS,
    ),
    "/api/task/info/{task_id}": _get(
        "One task",
        _ref("Task"),
        [_path("task_id", "The task's id")],
        {"404": _json(_ref("Error"), "No such task")},
    ),
    "/api/task/types": _get(
        "The task names seen",
        {
            "type": "object",
            "required": ["task-types"],
            "properties": {"task-types": {"type": "array", "items": {"type": "string"}}},
        },
    ),
    "/api/queues/length": _get(
        "Each queue's depth at the latest sample",
        {
            "type": "object",
            "required": ["active_queues"],
            "properties": {"active_queues": {"type": "array", "items": _ref("Queue")}},
        },
    ),
    "/api/dead-letters": _get(
        "Jobs delivered more than the delivery limit allows, oldest first (RabbitMQ)",
        {
            "type": "object",
            "required": ["total", "dead-letters"],
            "properties": {
                "total": {"type": "integer"},
                "dead-letters": {"type": "array", "items": _ref("DeadLetter")},
            },
        },
        [_query("limit", {"type": "integer", "minimum": 1, "maximum": DEAD_MAX}, "At most (100)")],
        {
            "409": _json(_ref("Error"), "The broker has no dead-letter queue (Redis)"),
            "503": _json(_ref("Error"), "The broker is unavailable"),
        },
    ),
    "/api/dead-letters/{task_id}/retry": _post(
        "Send a dead-lettered job again (same task, arguments, routing key; a new id)",
        [_path("task_id", "The dead-lettered job's task id")],
        _ref("Sent"),
    ),
    "/api/dead-letters/{task_id}/discard": _post(
        "Remove a dead-lettered job for good",
        [_path("task_id", "The dead-lettered job's task id")],
        {
            "type": "object",
            "required": ["discarded"],
            "properties": {"discarded": _ref("DeadLetter")},
        },
    ),
    "/api/task/async-apply/{name}": _post(
        "Send a registered task (JSON body or form: args, kwargs, routing_key, countdown)",
        [
            _path("name", "A task the application registers"),
            _query("args", {"type": "string"}, "A JSON array"),
            _query("kwargs", {"type": "string"}, "A JSON object"),
            _query("routing_key", {"type": "string"}, "Where to send it"),
            _query("countdown", {"type": "number", "minimum": 0}, "Seconds to wait"),
        ],
        _ref("Sent"),
    ),
    "/api/task/retry/{task_id}": _post(
        "Send a failed or revoked task again (same name, arguments, routing key; a new id)",
        [_path("task_id", "The task to send again")],
        _ref("Sent"),
    ),
    "/api/task/revoke/{task_id}": _post(
        "Revoke a task; with terminate=true also end it if running",
        [
            _path("task_id", "The task's id"),
            _query("terminate", {"type": "boolean"}, "End it if running"),
            _query("signal", {"type": "string", "enum": list(SIGNALS)}, "SIGTERM by default"),
        ],
    ),
    "/api/task/rate-limit/{name}": _post(
        "Set a task name's rate limit (0 removes it)",
        [
            TASK_NAME,
            _query("ratelimit", {"type": "string"}, "Such as 10/m (required)"),
            _query("workername", {"type": "string"}, "Only this worker"),
        ],
    ),
    "/api/task/timeout/{name}": _post(
        "Set a task name's soft and hard time limits (seconds)",
        [
            TASK_NAME,
            _query("soft", {"type": "number", "minimum": 0}, "Soft limit"),
            _query("hard", {"type": "number", "minimum": 0}, "Hard limit"),
            _query("workername", {"type": "string"}, "Only this worker"),
        ],
    ),
    "/api/worker/shutdown/{hostname}": _post("Warm shutdown of a worker", [WORKER]),
    "/api/worker/pool/grow/{hostname}": _post("Start n more pool processes", [WORKER, N]),
    "/api/worker/pool/shrink/{hostname}": _post("Stop n pool processes", [WORKER, N]),
    "/api/worker/pool/autoscale/{hostname}": _post(
        "Set the autoscaler's bounds",
        [
            WORKER,
            _query("min", {"type": "integer", "minimum": 0}, "Fewest processes"),
            _query("max", {"type": "integer", "minimum": 1}, "Most processes"),
        ],
    ),
    "/api/worker/queue/add-consumer/{hostname}": _post(
        "Consume from a queue",
        [WORKER, QUEUE, _query("routing_key", {"type": "string"}, "Binding key")],
    ),
    "/api/worker/queue/cancel-consumer/{hostname}": _post(
        "Stop consuming from a queue", [WORKER, QUEUE]
    ),
}

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {
        "title": "minestrone monitor API",
        "version": "1",
        "description": "Flower's HTTP API, read from the monitor's database. "
        "Authenticate with Authorization: Bearer <token>.",
    },
    "components": {
        "schemas": SCHEMAS,
        "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
    },
    "security": [{"token": []}],
    "paths": PATHS,
}


@require_GET
def openapi_view(request) -> JsonResponse:
    """The OpenAPI document."""
    return JsonResponse(DOCUMENT)
