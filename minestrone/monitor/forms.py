"""The form of the admin's "rate limit" action."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from minestrone.monitor.rates import InvalidRate, parse_rate


class RateLimitForm(forms.Form):
    """Ask for the rate to set on the selected tasks' names."""

    rate = forms.CharField(
        label="Rate limit",
        max_length=32,
        help_text="Tasks per second, minute or hour, such as 10/m, 2.5/s or 100/h; 0 removes "
        "the limit.",
    )

    def clean_rate(self) -> str:
        """Accept only what Celery understands as a rate."""
        try:
            return parse_rate(self.cleaned_data["rate"])
        except InvalidRate as exc:
            raise ValidationError(str(exc), code="invalid_rate") from exc
