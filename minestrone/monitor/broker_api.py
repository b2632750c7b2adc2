"""Queues (ready, unacknowledged, consumers, leader and members) and nodes read from RabbitMQ's
management HTTP API."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Iterable
from urllib.parse import quote, urlsplit

from minestrone.monitor.errors import BrokerApiError
from minestrone.monitor.queue_depth import BrokerNode, QueueDepth

# The largest answer read (a vhost with tens of thousands of queues, three columns each).
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
COLUMNS = "name,messages_ready,messages_unacknowledged,consumers,node,leader,members,online"
NODE_COLUMNS = "name,running"


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


def nodes_url(base_url: str) -> str:
    """The URL listing the broker's nodes with only the columns read."""
    return f"{base_url.rstrip('/')}/api/nodes?columns={NODE_COLUMNS}"


def fetch_queues(
    base_url: str, vhost: str, user: str, password: str, timeout: float, opener=None
) -> list[dict]:
    """GET the vhost's queues; raise BrokerApiError (never showing the login) on any failure."""
    return _get_rows(
        queues_url(base_url, vhost), "queues", base_url, user, password, timeout, opener
    )


def fetch_nodes(base_url: str, user: str, password: str, timeout: float, opener=None) -> list[dict]:
    """GET the broker's nodes; raise BrokerApiError (never showing the login) on any failure."""
    return _get_rows(nodes_url(base_url), "nodes", base_url, user, password, timeout, opener)


def _get_rows(
    url: str, what: str, base_url: str, user: str, password: str, timeout: float, opener
) -> list[dict]:  # noqa: ANN001, PLR0913
    """GET ``url`` (a list of ``what`` under ``base_url``) with the broker's login: its rows."""
    try:
        check_base_url(base_url)
    except ValueError as exc:
        raise BrokerApiError(f"MONITOR_BROKER_API_URL is refused: {exc}") from None
    # the scheme was checked just above: http or https only
    request = urllib.request.Request(url)  # noqa: S310
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
        raise BrokerApiError(f"the management API's answer is not a list of {what}")
    return rows


def _name(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _names(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(sorted(name for name in value if isinstance(name, str) and name))


def read_nodes(rows: list[dict]) -> tuple[BrokerNode, ...]:
    """The nodes in the API's rows, by name; a row without a name is skipped."""
    nodes = [
        BrokerNode(name, row.get("running") is True)
        for row in rows
        if (name := _name(row.get("name")))
    ]
    return tuple(sorted(nodes, key=lambda node: node.name))


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
                leader=_name(row.get("leader")) or _name(row.get("node")),
                members=_names(row.get("members")),
                online=_names(row.get("online")),
            )
        )
    return depths
