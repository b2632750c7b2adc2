"""The monitor's exceptions, under MonitorError (the API's own are in ``api/errors.py``)."""

from minestrone.errors import BrokerUnreachable, MinestroneError


class MonitorError(MinestroneError):
    """Something the monitor refuses or cannot do."""


class StoreUnavailable(MonitorError):
    """The database cannot take a write now; try again later."""


class BrokerApiError(MonitorError, BrokerUnreachable):
    """The management API could not be asked, or its answer was not a list of queues."""


class NoWorkerSelected(MonitorError):
    """A command named no worker; nothing was sent (Celery reads an empty list as "all")."""


class RetryRefused(MonitorError):
    """The task cannot be sent again; the message says why."""


class DeadLetterMissing(MonitorError):
    """No dead-lettered job has that task id (sent back or discarded meanwhile?)."""


class DeadLettersUnsupported(MonitorError):
    """The broker has no dead-letter queue (Redis): only RabbitMQ's quorum queues dead-letter."""


class InvalidRate(MonitorError, ValueError):
    """A text that is not a Celery rate."""


class UnsupportedOption(MonitorError, ValueError):
    """An old option that has no meaning any more and cannot be passed on."""


class MalformedEvent(MonitorError, ValueError):
    """An event the monitor cannot record: it lacks a field, or a field has the wrong type."""


class UnknownEvent(MalformedEvent):
    """An event of a type the monitor does not record."""
