"""Rate limits as Celery writes them: `10/m`, `2.5/s`, `100/h`, `100` (per second), `0` (none)."""

from __future__ import annotations

import re

from minestrone.monitor.errors import InvalidRate

_RATE = re.compile(r"(?P<number>\d+(?:\.\d+)?)(?:/(?P<unit>[smh]))?")


def parse_rate(text: str) -> str:
    """Return the rate, stripped; raise InvalidRate saying what a rate looks like."""
    value = (text or "").strip()
    if not _RATE.fullmatch(value):
        raise InvalidRate(
            f"{text!r} is not a rate: write a number of tasks per second, minute or hour, "
            "such as 10/m, 2.5/s or 100/h (0 removes the limit)."
        )
    return value


def rate_window(text: str) -> tuple[float, float] | None:
    """A rate as (count, seconds it is counted over); None for ``0`` (no limit)."""
    value = parse_rate(text)
    match = _RATE.fullmatch(value)
    count = float(match["number"])
    if count == 0:
        return None
    return count, {"s": 1.0, "m": 60.0, "h": 3600.0}[match["unit"] or "s"]
