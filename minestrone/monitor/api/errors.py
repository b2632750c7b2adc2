"""The API's errors: each becomes a JSON answer, {"error": "…"} (and the parameter at fault)."""

from __future__ import annotations

from django.http import JsonResponse

from minestrone.monitor.errors import MonitorError


class ApiError(MonitorError):
    """A request the API refuses, with the HTTP status to answer."""

    status = 400

    def __init__(self, message: str, status: int | None = None, headers: dict | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.headers = headers or {}

    def body(self) -> dict:
        """The JSON body of the answer."""
        return {"error": self.message}

    def response(self) -> JsonResponse:
        """The answer to send."""
        response = JsonResponse(self.body(), status=self.status)
        for name, value in self.headers.items():
            response[name] = value
        return response


class BadParameter(ApiError):
    """A parameter is missing, unknown or malformed: 400, naming it."""

    def __init__(self, parameter: str, message: str):
        super().__init__(f"{parameter}: {message}", 400)
        self.parameter = parameter

    def body(self) -> dict:
        """The error and the parameter's name."""
        return {"error": self.message, "parameter": self.parameter}


class NotAuthenticated(ApiError):
    """No credentials, or ones that are unknown or revoked: 401."""

    status = 401

    def __init__(self, message: str):
        super().__init__(message, 401, {"WWW-Authenticate": 'Bearer realm="api"'})


class Forbidden(ApiError):
    """Known caller, not allowed: 403."""

    status = 403


class NotFound(ApiError):
    """No such task or worker: 404."""

    status = 404


class Unavailable(ApiError):
    """The broker could not take a command: 503."""

    status = 503
