"""The admin's list filters whose choices come from indexes, not from reading every row."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.utils import timezone


class DistinctValueFilter(admin.SimpleListFilter):
    """Filter on one value of an indexed column; the choices come from a loose index scan."""

    column = ""
    limit = 200

    def lookups(self, request, model_admin) -> list[tuple[str, str]]:
        """Up to `limit` values found in the table."""
        values = model_admin.model.objects.distinct_values(self.column, limit=self.limit)
        return [(value, value) for value in values]

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
