"""Which of the application's data services is its database and which its broker.

The environment file names every data service through ``DOTCLOUD_<NAME>_<TAG>_*`` variables
(platform.md §2); the tag says the kind. The rule, one for both roles: the service that
``MINESTRONE_DATABASE_SERVICE`` (``MINESTRONE_BROKER_SERVICE``) names, else the only service of
a kind that can play the role; two such services are refused until the variable chooses one.
The CloudAMQP add-on, when present, is the broker unless the variable names a service.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

# The tag of a service's variables → its kind (postgis is a PostgreSQL too: tag SQL).
KINDS = {
    "SQL": "postgresql",
    "MYSQL": "mysql",
    "AMQP": "rabbitmq",
    "REDIS": "redis",
    "MONGODB": "mongodb",
}
DATABASE_KINDS = ("postgresql", "mysql")
BROKER_KINDS = ("rabbitmq", "redis")
DATABASE_CHOICE = "MINESTRONE_DATABASE_SERVICE"
BROKER_CHOICE = "MINESTRONE_BROKER_SERVICE"
NAME_SHOWN = 41  # characters of a service's name in a message; longer ones are cut in the middle
LISTED = 5  # services named in a message; the rest are counted
_VARIABLE = re.compile(
    r"^DOTCLOUD_([A-Z0-9_]+)_(" + "|".join(KINDS) + r")_(HOST|PORT|LOGIN|PASSWORD|URL)$"
)


@dataclass(frozen=True, order=True)
class Service:
    """One data service of the application: its name as in the variables, and its tag."""

    name: str
    tag: str

    @property
    def kind(self) -> str:
        """The service's type in dotcloud.yml (postgresql, mysql, rabbitmq, redis, mongodb)."""
        return KINDS[self.tag]

    @property
    def prefix(self) -> str:
        """The start of its variables, such as ``DOTCLOUD_DB_SQL_``."""
        return f"DOTCLOUD_{self.name}_{self.tag}_"

    def __str__(self) -> str:
        name = self.name.lower()
        if len(name) > NAME_SHOWN:  # an error stays one readable line, whatever the file holds
            half = (NAME_SHOWN - 1) // 2
            name = f"{name[:half]}…{name[-half:]}"
        return f"the {self.kind} service {name!r}"


def data_services(keys) -> list[Service]:
    """The data services whose variables are among ``keys``, sorted by name."""
    found = {Service(m.group(1), m.group(2)) for key in keys if (m := _VARIABLE.match(key))}
    return sorted(found)


def _listed(services: list[Service]) -> str:
    shown = [str(service) for service in services[:LISTED]]
    more = len(services) - LISTED
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def chosen(
    where: str,
    services: list[Service],
    choice: str | None,
    role: str,
    kinds: tuple[str, ...],
    variable: str,
) -> Service | None:
    """The service named by ``choice``, or the only one of ``kinds``; None when there is none.

    ``where`` (the environment file) starts each message; ``role`` reads "database" or
    "broker".
    """
    able = " or ".join(kinds)
    if choice is not None and choice.strip():
        name = choice.strip().upper()
        named = [service for service in services if service.name == name]
        if not named:
            raise ImproperlyConfigured(
                f"{where} has {variable}={choice.strip()[:40]!r}, but no data service of that "
                f"name: name one of {_listed(services) or 'none (there is no data service)'}."
            )
        fit = [service for service in named if service.kind in kinds]
        if not fit:
            raise ImproperlyConfigured(
                f"{where} has {variable} naming {named[0]}, which cannot be the {role}: a "
                f"{role} here is a {able} service."
            )
        return fit[0]
    fit = [service for service in services if service.kind in kinds]
    if len(fit) > 1:
        raise ImproperlyConfigured(
            f"{where} has {len(fit)} services that could be the {role} ({_listed(fit)}): set "
            f"{variable} to the name of the one to use."
        )
    return fit[0] if fit else None


def unable(services: list[Service]) -> str:
    """`` (the mongodb service 'x' cannot be one)`` for the services of no role, else ""."""
    others = [service for service in services if service.kind not in DATABASE_KINDS + BROKER_KINDS]
    return f" ({_listed(others)} cannot be one)" if others else ""


def none_found(where: str, services: list[Service], role: str, kinds: tuple[str, ...]) -> str:
    """The message for an application without a service able to play ``role``."""
    able = " or ".join(f"`{kind}`" for kind in kinds)
    return f"{where} has no {role}{unable(services)}: add a {able} service to dotcloud.yml."
