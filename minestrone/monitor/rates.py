"""Rate limits as Celery writes them: `10/m`, `2.5/s`, `100/h`, `100` (per second), `0` (none)."""

from __future__ import annotations

import re

_RATE = re.compile(r"(?P<number>\d+(?:\.\d+)?)(?:/(?P<unit>[smh]))?")


class InvalidRate(ValueError):
    """A text that is not a Celery rate."""


def parse_rate(text: str) -> str:
    """Return the rate, stripped; raise InvalidRate saying what a rate looks like."""
    value = (text or "").strip()
    if not _RATE.fullmatch(value):
        raise InvalidRate(
            f"{text!r} is not a rate: write a number of tasks per second, minute or hour, "
            "such as 10/m, 2.5/s or 100/h (0 removes the limit)."
        )
    return value
