"""A paginator for big tables: it counts at most `cap` rows instead of running a full COUNT(*)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.utils.functional import cached_property

COUNT_CAP = 10_000


class CappedPaginator(Paginator):
    """Count at most `cap` + 1 rows; `capped` says the real count is larger."""

    cap = COUNT_CAP

    @cached_property
    def count(self) -> int:
        """The number of rows, or cap + 1 when there are more than cap."""
        return self.object_list.order_by()[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        """True when there are more rows than the count says."""
        return self.count > self.cap
