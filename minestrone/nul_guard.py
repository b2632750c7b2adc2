"""Refuse a request whose address holds a NUL: PostgreSQL cannot store or compare one."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

NUL = "\x00"
MESSAGE = "Bad request: the address holds a NUL character (%00); remove it and try again.\n"


def holds_nul(request: HttpRequest) -> bool:
    """True when the path, a query parameter's name or one of its values holds a NUL."""
    if NUL in request.path:
        return True
    return any(
        NUL in key or any(NUL in value for value in values) for key, values in request.GET.lists()
    )


class RefuseNulMiddleware:
    """Answer 400 to a NUL in the address, before any view hands it to the database."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Refuse the request in one line, or pass it on."""
        if holds_nul(request):
            return HttpResponseBadRequest(MESSAGE, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
