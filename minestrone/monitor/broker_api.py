"""Queue counts read from RabbitMQ's management HTTP API (ready, unacknowledged, consumers)."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Iterable
from urllib.parse import quote, urlsplit

from minestrone.monitor.errors import BrokerApiError
from minestrone.monitor.queue_depth import QueueDepth

# The largest answer read (a vhost with tens of thousands of queues, three columns each).
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
COLUMNS = "name,messages_ready,messages_unacknowledged,consumers"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Refuse redirects: the broker's login must never be sent to another address."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        """Stop at the first redirect (urllib then raises the 3xx as an HTTPError)."""
        return None


def build_opener() -> urllib.request.OpenerDirector:
    """An opener that ignores proxy variables and follows no redirect."""
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def queues_url(base_url: str, vhost: str) -> str:
    """The URL listing the queues of ``vhost`` with only the columns read."""
    return f"{base_url.rstrip('/')}/api/queues/{quote(vhost, safe='')}?columns={COLUMNS}"


def check_base_url(url: str) -> str:
    """Return ``url`` if it is an http(s) base URL without a login, else raise ValueError."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("it is not an http:// or https:// URL (e.g. http://127.0.0.1:15672)")
    if parts.username is not None or parts.password is not None:
        raise ValueError("it holds a login: give only the base URL, the broker's login is reused")
    if parts.query or parts.fragment:
        raise ValueError("it has a query or a fragment: give only the base URL")
    return url


def _count(row: dict, key: str) -> int | None:
    value = row.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def fetch_queues(
    base_url: str, vhost: str, user: str, password: str, timeout: float, opener=None
) -> list[dict]:
    """GET the vhost's queues; raise BrokerApiError (never showing the login) on any failure."""
    try:
        check_base_url(base_url)
    except ValueError as exc:
        raise BrokerApiError(f"MONITOR_BROKER_API_URL is refused: {exc}") from None
    # the scheme was checked just above: http or https only
    request = urllib.request.Request(queues_url(base_url, vhost))  # noqa: S310
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    request.add_header("Authorization", f"Basic {token}")
    request.add_header("Accept", "application/json")
    opener = opener or build_opener()
    try:
        with opener.open(request, timeout=timeout) as response:
            body = response.read(MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        exc.close()
        hint = " (the broker's login was refused)" if exc.code in (401, 403) else ""
        raise BrokerApiError(f"the management API answered HTTP {exc.code}{hint}") from None
    except urllib.error.URLError as exc:
        raise BrokerApiError(f"the management API cannot be reached: {exc.reason}") from None
    except (OSError, ValueError) as exc:  # timeouts, resets, a malformed status line
        raise BrokerApiError(f"the management API cannot be reached: {exc}") from None
    if len(body) > MAX_RESPONSE_BYTES:
        raise BrokerApiError(f"the management API answered over {MAX_RESPONSE_BYTES} bytes")
    try:
        rows = json.loads(body)
    except ValueError:
        raise BrokerApiError("the management API's answer is not JSON") from None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise BrokerApiError("the management API's answer is not a list of queues")
    return rows


def read_api_depths(rows: list[dict], names: Iterable[str]) -> list[QueueDepth]:
    """The depths of ``names`` (sorted) found in the API's rows; absent ones are missing."""
    by_name = {row.get("name"): row for row in rows}
    depths = []
    for name in sorted(set(names)):
        row = by_name.get(name)
        if row is None:
            depths.append(QueueDepth(name, None, None, missing=True))
            continue
        depths.append(
            QueueDepth(
                name,
                _count(row, "messages_ready"),
                _count(row, "consumers"),
                unacked=_count(row, "messages_unacknowledged"),
            )
        )
    return depths
