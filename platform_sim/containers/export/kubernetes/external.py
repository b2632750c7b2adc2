"""``--external SVC=URL``: a data service the cluster does not run (managed PostgreSQL/RabbitMQ)."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

from backing_services.urls import redact
from platform_sim.appfile.buildfile import BuildFile
from platform_sim.appfile.environment import Endpoint
from platform_sim.errors import UsageError
from platform_sim.kinds.registry import KINDS

EXAMPLE = f"db=postgresql://USER:PASSWORD@HOST:{KINDS['postgresql'].port}"


def parse_externals(words: Iterable[str], buildfile: BuildFile) -> dict[str, Endpoint]:
    """Each ``SVC=URL`` as the endpoint the app's environment points at."""
    endpoints: dict[str, Endpoint] = {}
    for word in words:
        name, sep, url = word.partition("=")
        if not sep or not url:
            raise UsageError(f"--external {redact(word)!r}: write SVC=URL, e.g. {EXAMPLE}")
        service = buildfile.services.get(name)
        if service is None or service.is_code:
            known = ", ".join(s.name for s in buildfile.data_services()) or "none"
            raise UsageError(
                f"--external {name!r}: dotcloud.yml has no data service of that name "
                f"(its data services: {known})"
            )
        if name in endpoints:
            raise UsageError(f"--external {name} is given twice: keep one")
        endpoints[name] = _endpoint(name, service.type, url)
    return endpoints


def _endpoint(name: str, kind: str, url: str) -> Endpoint:
    accepted = KINDS[kind].external
    schemes = accepted.schemes
    where = f"--external {name}={redact(url)!r}"
    parts = urlsplit(url)
    if parts.scheme not in schemes or not url.startswith(f"{parts.scheme}://"):
        raise UsageError(f"{where}: a {kind} service needs a URL {schemes[0]}://USER:PASSWORD@HOST")
    try:
        port = parts.port or KINDS[kind].port
    except ValueError:
        raise UsageError(f"{where}: the port is not a number from 1 to 65535") from None
    if not parts.hostname:
        raise UsageError(f"{where}: the URL has no host")
    if not parts.username or not parts.password:
        raise UsageError(
            f"{where}: give the login and password in the URL ({schemes[0]}://USER:PASSWORD@HOST);"
            " they go into a Secret"
        )
    if parts.path not in accepted.default_paths or parts.query or parts.fragment:
        raise UsageError(
            f"{where}: the platform's variables carry no {accepted.refused_path} or options: "
            "drop them from the URL and set the application's own variable with -e"
        )
    return Endpoint(parts.hostname, port, unquote(parts.username), unquote(parts.password))
