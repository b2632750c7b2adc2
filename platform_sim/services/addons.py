"""Add-ons: CloudAMQP, a RabbitMQ whose credentials arrive as application variables."""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

from platform_sim.apps import AppPaths
from platform_sim.errors import UsageError
from platform_sim.services.provision import DataService, Running


@dataclass(frozen=True)
class AddonKind:
    """What an add-on is: the server behind it and the prefix of the variables it sets."""

    name: str
    kind: str
    prefix: str


ADDONS = {"cloudamqp": AddonKind("cloudamqp", "rabbitmq", "CLOUDAMQP_RABBITMQ_AMQP_")}


def addon_kind(name: str) -> AddonKind:
    """The add-on called ``name`` (UsageError listing the known ones otherwise)."""
    try:
        return ADDONS[name]
    except KeyError:
        raise UsageError(
            f"unknown add-on {name!r}: platform_sim provides {', '.join(sorted(ADDONS))}"
        ) from None


def new_login() -> str:
    """A CloudAMQP-style login (also its virtual host): eight lowercase letters."""
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(8))


def data_service(paths: AppPaths, name: str, login: str) -> DataService:
    """The server behind an add-on: its own user and virtual host, named like the login."""
    kind = addon_kind(name)
    return DataService(name, kind.kind, paths.addon(name), user=login, vhost=login)


def variables(name: str, running: Running) -> dict[str, str]:
    """The application variables an add-on sets (``CLOUDAMQP_RABBITMQ_AMQP_*``)."""
    prefix = addon_kind(name).prefix
    endpoint = running.endpoint
    credentials = f"{quote(endpoint.login, safe='')}:{quote(endpoint.password, safe='')}"
    return {
        f"{prefix}HOST": endpoint.host,
        f"{prefix}PORT": str(endpoint.port),
        f"{prefix}LOGIN": endpoint.login,
        f"{prefix}PASSWORD": endpoint.password,
        f"{prefix}VIRTUALHOST": running.vhost,
        f"{prefix}URL": f"amqp://{credentials}@{endpoint.host}:{endpoint.port}/"
        f"{quote(running.vhost, safe='')}",
    }


def all_variables(addon_values: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """The variables of every add-on, merged."""
    merged: dict[str, str] = {}
    for values in addon_values.values():
        merged.update(values)
    return merged
