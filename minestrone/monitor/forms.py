"""The forms of the admin's actions: the "rate limit" action and a worker's commands."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

from minestrone.monitor.errors import InvalidRate
from minestrone.monitor.rates import parse_rate


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


QUEUE_NAME = RegexValidator(
    r"^[A-Za-z0-9_.:-]{1,255}$",
    "A queue name is 1 to 255 letters, digits, “_”, “.”, “:” or “-”.",
)
BINDING_KEY = RegexValidator(
    r"^[A-Za-z0-9_*#-]+(\.[A-Za-z0-9_*#-]+)*$",
    "A binding key is dot-separated words, “*” or “#”, such as tasks.reports.#.",
)
WORKER_COMMANDS = {
    "pool_grow": ("n",),
    "pool_shrink": ("n",),
    "autoscale": ("max", "min"),
    "add_consumer": ("queue",),
    "cancel_consumer": ("queue",),
    "time_limit": ("task_name",),
    "rate_limit": ("task_name", "rate"),
}


class WorkerCommandForm(forms.Form):
    """One remote-control command for one worker, with the values it needs."""

    command = forms.ChoiceField(choices=[(name, name) for name in WORKER_COMMANDS])
    n = forms.IntegerField(required=False, min_value=1, max_value=64, initial=1)
    max = forms.IntegerField(required=False, min_value=1, max_value=256)
    min = forms.IntegerField(required=False, min_value=0, max_value=256)
    queue = forms.CharField(required=False, max_length=255, validators=[QUEUE_NAME])
    binding_key = forms.CharField(
        required=False, max_length=255, validators=[BINDING_KEY], initial="tasks.#"
    )
    task_name = forms.CharField(required=False, max_length=255)
    soft = forms.FloatField(required=False, min_value=0)
    hard = forms.FloatField(required=False, min_value=0)
    rate = forms.CharField(required=False, max_length=32)

    def clean(self) -> dict:
        """Each command's values are present; autoscale's minimum is not above its maximum."""
        data = super().clean()
        command = data.get("command")
        for name in WORKER_COMMANDS.get(command, ()):
            if data.get(name) in (None, ""):
                self.add_error(name, f"{command.replace('_', ' ')} needs a value here.")
        low, high = data.get("min"), data.get("max")
        if command == "autoscale" and None not in (low, high) and low > high:
            self.add_error("min", "The minimum is above the maximum.")
        if command == "rate_limit" and data.get("rate"):
            try:
                data["rate"] = parse_rate(data["rate"])
            except InvalidRate as exc:
                self.add_error("rate", str(exc))
        soft, hard = data.get("soft"), data.get("hard")
        if command == "time_limit" and soft and hard and soft > hard:
            self.add_error("soft", "The soft limit must not exceed the hard one.")
        return data

    def error_text(self) -> str:
        """The errors on one line."""
        return "; ".join(f"{field}: {' '.join(errors)}" for field, errors in self.errors.items())
