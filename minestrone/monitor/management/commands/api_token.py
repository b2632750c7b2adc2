"""`manage.py api_token create USERNAME [--read-only]`, `list`, `revoke ID`: the API's tokens."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from minestrone.monitor.api.tokens import ApiToken


class Command(BaseCommand):
    """Issue (printed once), list and revoke API tokens."""

    help = (
        "Manage the monitor API's tokens. `create USERNAME [--read-only] [--name TEXT]` prints "
        "a new token once (only its hash is kept); `list` shows the tokens; `revoke ID` "
        "refuses one from now on."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """create, list and revoke."""
        verbs = parser.add_subparsers(dest="verb", required=True, parser_class=CommandParser)
        create = verbs.add_parser("create", help="Issue a token for a user and print it once.")
        create.add_argument("username")
        create.add_argument("--read-only", action="store_true", help="Cannot act, only read.")
        create.add_argument("--name", default="", help="What the token is for.")
        verbs.add_parser("list", help="The tokens, newest first.")
        revoke = verbs.add_parser("revoke", help="Refuse a token from now on.")
        revoke.add_argument("id", type=int)

    def handle(self, *args, **options) -> None:
        """Run the verb."""
        getattr(self, f"_{options['verb']}")(options)

    def _create(self, options) -> None:
        users = get_user_model()
        try:
            user = users.objects.get(**{users.USERNAME_FIELD: options["username"]})
        except users.DoesNotExist:
            raise CommandError(
                f"no user named {options['username']!r}: create it first (mkadmin.py or the "
                "admin's Users)"
            ) from None
        if not (user.is_active and user.is_staff):
            self.stderr.write(
                f"warning: {user} is not an active staff user: the API will refuse the token "
                "until it is (as the admin would)"
            )
        _, token = ApiToken.objects.issue(user, options["name"], options["read_only"])
        self.stdout.write(token)

    def _list(self, options) -> None:
        for row in ApiToken.objects.select_related("user"):
            state = f"revoked {row.revoked:%Y-%m-%d %H:%M}" if row.revoked else "active"
            self.stdout.write(f"{row.pk}\t{row.user}\t{row.name}\t{row.read_only}\t{state}")

    def _revoke(self, options) -> None:
        row = ApiToken.objects.filter(pk=options["id"]).first()
        if row is None:
            raise CommandError(f"no API token with id {options['id']} (see `api_token list`)")
        row.revoke()
        self.stdout.write(f"revoked token {row.pk} of {row.user}")
