"""The editor form: a job name and the routing-key name it is sent with."""

import unicodedata

from django import forms
from django.core.exceptions import ValidationError

from minestrone.soup.routing import (
    MAX_ROUTING_KEY_BYTES,
    ROUTING_KEY_PREFIX,
    RoutingKeyError,
    routing_key_for,
)

MAX_JOB_NAME_LENGTH = 100
# Control characters, surrogates, private-use and unassigned code points, line and paragraph
# separators: a job name travels in JSON and log lines, where these break or smuggle things.
# Format characters (Cf: U+202E right-to-left override, zero-width spaces…) would make the
# admin show a name other than the one the job has.
_FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def validate_job_name_characters(value: str) -> None:
    """Refuse characters a job name cannot carry, naming the first one found."""
    for position, char in enumerate(value, start=1):
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            raise ValidationError(
                "The job name cannot contain the character U+%(code)04X (at position "
                "%(position)d): use printable characters only.",
                code="invalid_character",
                params={"code": ord(char), "position": position},
            )


class EditorForm(forms.Form):
    """What the editor page asks for; cleaned_data gains the full `routing_key`."""

    job_name = forms.CharField(
        label="Job name",
        max_length=MAX_JOB_NAME_LENGTH,
        validators=[validate_job_name_characters],
    )
    routing_key_name = forms.CharField(
        label="Routing key name",
        max_length=MAX_ROUTING_KEY_BYTES - len(ROUTING_KEY_PREFIX),
        help_text=(
            "The job is sent with the routing key tasks.NAME: words of letters, digits, "
            "_ and -, separated by dots, such as kitchen.urgent."
        ),
    )

    def clean_routing_key_name(self) -> str:
        """Check that `tasks.<name>` is a valid AMQP routing key."""
        name = self.cleaned_data["routing_key_name"]
        try:
            self.cleaned_data["routing_key"] = routing_key_for(name)
        except RoutingKeyError as exc:
            raise ValidationError(str(exc), code="invalid_routing_key") from exc
        return name
