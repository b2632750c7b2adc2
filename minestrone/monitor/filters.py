"""The admin's list filters whose choices come from indexes, not from reading every row."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.utils import timezone

from minestrone.monitor.display import shorten


class DistinctValueFilter(admin.SimpleListFilter):
    """Filter on one value of an indexed column; the choices come from a loose index scan."""

    column = ""
    limit = 200

    def lookups(self, request, model_admin) -> list[tuple[str, str]]:
        """Up to `limit` values found in the table."""
        values = model_admin.model.objects.distinct_values(self.column, limit=self.limit)
        return [_choice(value) for value in values]

    def queryset(self, request, queryset) -> QuerySet:
        """Rows with the chosen value."""
        if self.value() is None:
            return queryset
        return queryset.filter(**{self.column: self.value()})


class NameFilter(DistinctValueFilter):
    """Tasks by name."""

    title = "name"
    parameter_name = "name"
    column = "name"


class WorkerFilter(DistinctValueFilter):
    """Tasks by the worker that ran them."""

    title = "worker"
    parameter_name = "worker"
    column = "worker"


class RoutingKeyFilter(DistinctValueFilter):
    """Tasks by routing key."""

    title = "routing key"
    parameter_name = "routing_key"
    column = "routing_key"


PREFIX_WORDS = 3  # the deepest prefix offered: tasks.reports.daily.*
CHOICE_LENGTH = 48  # longer values are shortened in the filter (the link keeps them whole)


def prefixes(keys: list[str], depth: int = PREFIX_WORDS) -> list[str]:
    """The dotted prefixes of the keys, up to `depth` words, as "a.b.*", sorted:
    tasks.reports.daily gives tasks.* and tasks.reports.*."""
    found = set()
    for key in keys:
        words = key.split(".")
        for n in range(1, min(len(words), depth + 1)):
            found.add(".".join(words[:n]) + ".*")
    return sorted(found)


def _choice(value: str) -> tuple[str, str]:
    return value, shorten(value, CHOICE_LENGTH)


class RoutingKeyPrefixFilter(admin.SimpleListFilter):
    """Tasks whose routing key starts with a dotted prefix, such as tasks.reports.*."""

    title = "routing key prefix"
    parameter_name = "routing_key_prefix"
    limit = 200

    def lookups(self, request, model_admin) -> list[tuple[str, str]]:
        """The prefixes of the first `limit` routing keys (a loose index scan)."""
        keys = model_admin.model.objects.distinct_values("routing_key", limit=self.limit)
        return [_choice(prefix) for prefix in prefixes(keys)[: self.limit]]

    def queryset(self, request, queryset) -> QuerySet:
        """Rows whose key starts with the prefix (its "*" removed)."""
        value = self.value()
        if not value:
            return queryset
        return queryset.filter(routing_key__startswith=value.rstrip("*"))


class WorkerStatusFilter(admin.SimpleListFilter):
    """Workers ONLINE or OFFLINE now."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin) -> list[tuple[str, str]]:
        """ONLINE and OFFLINE."""
        return [("online", "ONLINE"), ("offline", "OFFLINE")]

    def queryset(self, request, queryset) -> QuerySet:
        """Workers of the chosen status."""
        if self.value() == "online":
            return queryset.online(timezone.now())
        if self.value() == "offline":
            return queryset.offline(timezone.now())
        return queryset
