"""`manage.py celeryd`: start a Celery 5 worker for the project, with the old celeryd options."""

from __future__ import annotations

import argparse

from django.core.management.base import BaseCommand, CommandError, CommandParser

from minestrone.monitor.errors import UnsupportedOption
from minestrone.monitor.worker_options import add_arguments, celery_worker_argv


class _PassThroughParser(CommandParser):
    """A command parser that keeps the options it does not know, for Celery."""

    def parse_args(self, args=None, namespace=None) -> argparse.Namespace:
        """Parse the known options; put the others in `passthrough`, in their order."""
        namespace, extra = self.parse_known_args(args, namespace)
        namespace.passthrough = extra
        return namespace


class Command(BaseCommand):
    """Run `celery -A minestrone worker` with the old celeryd's options translated."""

    help = (
        "Start a Celery worker for minestrone, as `celery -A minestrone worker` would. The "
        "options of the old celeryd are accepted (and translated where Celery 5 renamed them); "
        "any other option goes to `celery worker` unchanged. Example: celeryd -E -l info -c 2."
    )
    requires_system_checks = []

    def create_parser(self, prog_name: str, subcommand: str, **kwargs) -> CommandParser:
        """Django's parser, without abbreviations, keeping unknown options for Celery."""
        parser = super().create_parser(prog_name, subcommand, allow_abbrev=False, **kwargs)
        parser.__class__ = _PassThroughParser
        return parser

    def add_arguments(self, parser) -> None:
        """The old celeryd options."""
        add_arguments(parser)

    def run_worker(self, argv: list[str]) -> int | None:
        """Run Celery's command line on the project's app; return its exit status."""
        from minestrone.celery_app import app

        return app.start(argv=argv)

    def prepare_queues(self) -> None:
        """On RabbitMQ, declare the queues and move jobs an old worker gave back to the classic
        queue since the deploy (queue_migration); a failure is said and left to Celery."""
        from django.conf import settings

        from minestrone.delivery import broker_kind
        from minestrone.errors import MinestroneError
        from minestrone.queue_migration import migrate

        if broker_kind(settings.CELERY_BROKER_URL) != "rabbitmq":
            return
        try:
            done = migrate(settings.CELERY_BROKER_URL, settings.MINESTRONE_DELIVERY_LIMIT)
        except MinestroneError as exc:
            self.stderr.write(f"celeryd: queues not prepared: {exc}")
            return
        if done.moved or done.classic_queue != "absent":
            self.stderr.write(f"celeryd: {done.describe()}")

    def handle(self, *args, passthrough=(), **options) -> None:
        """Translate the options and run the worker until it stops."""
        try:
            argv, warnings = celery_worker_argv(options, list(passthrough))
        except UnsupportedOption as exc:
            raise CommandError(str(exc)) from exc
        for warning in warnings:
            self.stderr.write(f"celeryd: {warning}")
        self.prepare_queues()
        status = self.run_worker(argv)
        if status:
            raise SystemExit(status)
