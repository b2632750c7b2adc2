"""The API's parameters, read from the query string, a form or a JSON body, each checked and
refused with BadParameter naming it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from minestrone.monitor.api.errors import BadParameter

MAX_TEXT = 255
# Flower's time filters are "YYYY-MM-DD HH:MM"; ISO 8601 and epoch seconds are taken too.
FLOWER_TIME = "%Y-%m-%d %H:%M"


def _body(request) -> dict:
    """The request's JSON object body ({} when it has none)."""
    if request.content_type != "application/json" or not request.body:
        return {}
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadParameter("body", f"not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise BadParameter("body", "must be a JSON object")
    return data


class Params:
    """A request's parameters, each read by its type; one the endpoint does not take is refused."""

    def __init__(self, request, allowed: tuple[str, ...]):
        self.values: dict[str, object] = {}
        self.values.update({k: request.GET.get(k) for k in request.GET})
        if request.method == "POST":
            self.values.update({k: request.POST.get(k) for k in request.POST})
            self.values.update(_body(request))
        for name in self.values:
            if name not in allowed:
                known = ", ".join(allowed) or "none"
                raise BadParameter(name, f"unknown parameter (this endpoint takes: {known})")

    def raw(self, name: str):
        """The value as given, or None."""
        value = self.values.get(name)
        return None if value == "" else value

    def text(self, name: str, default: str | None = None, required: bool = False) -> str | None:
        """A string of at most MAX_TEXT characters."""
        value = self.raw(name)
        if value is None:
            if required:
                raise BadParameter(name, "required")
            return default
        if not isinstance(value, str):
            raise BadParameter(name, "must be a string")
        if len(value) > MAX_TEXT:
            raise BadParameter(name, f"at most {MAX_TEXT} characters")
        return value

    def integer(
        self, name: str, default: int | None, low: int, high: int, required: bool = False
    ) -> int | None:
        """An integer from low to high."""
        value = self.raw(name)
        if value is None:
            if required:
                raise BadParameter(name, "required")
            return default
        try:
            number = value if isinstance(value, int) and not isinstance(value, bool) else None
            if number is None:
                digits = value.strip() if isinstance(value, str) else ""
                if len(digits) > 20 or not digits.lstrip("+-").isdigit():
                    raise ValueError
                number = int(digits)
        except ValueError:
            raise BadParameter(name, f"must be a whole number from {low} to {high}") from None
        if not low <= number <= high:
            raise BadParameter(name, f"must be from {low} to {high}")
        return number

    def number(self, name: str, low: float, high: float) -> float | None:
        """A finite number from low to high, or None."""
        value = self.raw(name)
        if value is None:
            return None
        try:
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise ValueError
            number = float(value)
        except (ValueError, OverflowError):
            raise BadParameter(name, f"must be a number from {low:g} to {high:g}") from None
        if not low <= number <= high:  # also refuses nan
            raise BadParameter(name, f"must be a number from {low:g} to {high:g}")
        return number

    def boolean(self, name: str, default: bool = False) -> bool:
        """true/false, 1/0, yes/no."""
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes", "on"):
            return True
        if text in ("false", "0", "no", "off"):
            return False
        raise BadParameter(name, "must be true or false")

    def choice(self, name: str, choices: tuple[str, ...]) -> str | None:
        """One of `choices`, or None."""
        value = self.text(name)
        if value is not None and value not in choices:
            raise BadParameter(name, f"must be one of {', '.join(choices)}")
        return value

    def moment(self, name: str) -> datetime | None:
        """A time: "YYYY-MM-DD HH:MM" (UTC, as Flower), ISO 8601, or seconds since 1970."""
        value = self.text(name)
        if value is None:
            return None
        return parse_moment(name, value)

    def json_value(self, name: str, kind: type, default):
        """A JSON list or object: given in a JSON body, or as JSON text in a form or query."""
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise BadParameter(name, f"must be a JSON {kind.__name__}") from None
        if not isinstance(value, kind):
            label = "array" if kind is list else "object"
            raise BadParameter(name, f"must be a JSON {label}")
        return value


def parse_moment(name: str, value: str) -> datetime:
    """Read a time parameter (see Params.moment); BadParameter if it is not one."""
    text = value.strip()
    try:
        try:
            moment = datetime.strptime(text, FLOWER_TIME)  # noqa: DTZ007 (UTC, made aware below)
        except ValueError:
            moment = parse_datetime(text) if not _is_number(text) else None
            if moment is None and _is_number(text):
                moment = datetime.fromtimestamp(float(text), tz=UTC)
        if moment is None:
            raise ValueError
        if timezone.is_naive(moment):
            moment = moment.replace(tzinfo=UTC)
        moment.astimezone(UTC)  # out of range once in UTC: refused here
    except (ValueError, OverflowError, OSError):
        raise BadParameter(
            name, "must be a time: YYYY-MM-DD HH:MM (UTC), ISO 8601, or seconds since 1970"
        ) from None
    return moment


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
