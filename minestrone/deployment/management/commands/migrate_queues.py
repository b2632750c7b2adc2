"""`manage.py migrate_queues`: declare the broker's queues and move an older deploy's jobs."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from minestrone.delivery import broker_kind
from minestrone.errors import MinestroneError
from minestrone.queue_migration import migrate


class Command(BaseCommand):
    """Declare the quorum and dead-letter queues; move the classic queue's jobs into them."""

    help = (
        "On RabbitMQ: declare the quorum queue and the dead-letter queue, and move the jobs of "
        "the classic `default` queue an earlier deploy declared into the quorum queue (nothing "
        "is lost; the emptied queue is deleted unless an old worker still consumes it). On "
        "other brokers there is nothing to do."
    )

    def handle(self, *args, **options) -> None:
        """Run the migration; a broker problem becomes a one-line CommandError."""
        url = settings.CELERY_BROKER_URL
        if broker_kind(url) != "rabbitmq":
            self.stdout.write(f"queues: nothing to do on a {broker_kind(url)} broker")
            return
        try:
            done = migrate(url, settings.MINESTRONE_DELIVERY_LIMIT)
        except MinestroneError as exc:
            raise CommandError(f"queues: {exc}") from None
        self.stdout.write(done.describe())
