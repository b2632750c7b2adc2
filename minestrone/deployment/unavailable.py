"""A database that does not answer is a clear 503 (and a log line), never a 500."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse

from minestrone.errors import DATABASE_FAILURES

RETRY_AFTER_SECONDS = 30
MESSAGE = (
    "<!doctype html><title>Service unavailable</title>"
    "<h1>Service unavailable</h1>"
    "<p>The database is not answering right now. Nothing was changed; "
    "please try again in a minute.</p>"
)

logger = logging.getLogger("minestrone.database")


class DatabaseUnavailableMiddleware:
    """Turn a view's OperationalError/InterfaceError (database down or frozen) into a 503."""

    def __init__(self, get_response) -> None:  # noqa: ANN001 - Django's middleware signature
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Pass the request on; errors come back through ``process_exception``."""
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A 503 with Retry-After for a database error; anything else is not ours."""
        if not isinstance(exception, DATABASE_FAILURES):
            return None
        first = (str(exception) or type(exception).__name__).splitlines()[0]
        logger.error(
            "database unavailable: %s %s answered 503 (%s)", request.method, request.path, first
        )
        response = HttpResponse(MESSAGE, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
