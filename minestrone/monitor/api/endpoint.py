"""What every API view shares: the method, the caller and its permission, the throttle, and
errors answered as JSON (never a 500 page for bad input)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from minestrone.monitor.api import throttle
from minestrone.monitor.api.auth import authenticate, require
from minestrone.monitor.api.errors import ApiError
from minestrone.monitor.api.params import Params


def endpoint(method: str, permission: str, params: tuple[str, ...] = (), acts: bool = False):
    """Make `view(request, caller, params, *args)` an API endpoint answering JSON.

    CSRF is checked by `authenticate` for logged-in users only: a bearer token is not sent by
    browsers on their own, so a token request needs no CSRF token.
    """

    def wrap(view: Callable) -> Callable:
        @csrf_exempt
        @wraps(view)
        def handler(request, *args, **kwargs):
            try:
                if request.method != method:
                    raise ApiError(f"method not allowed: use {method}", 405, {"Allow": method})
                caller = authenticate(request)
                require(caller, permission, acts)
                throttle.check(caller.throttle_key)
                body = view(request, caller, Params(request, params), *args, **kwargs)
            except ApiError as exc:
                return exc.response()
            return body if isinstance(body, JsonResponse) else JsonResponse(body, safe=False)

        handler.api_method = method
        return handler

    return wrap
