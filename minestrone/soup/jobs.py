"""Queue the tutorial's job on the broker, reporting an unreachable broker as one error."""

from kombu.exceptions import OperationalError

from minestrone.errors import BrokerUnreachable
from minestrone.soup.tasks import lazy_job


def queue_lazy_job(name: str, routing_key: str) -> str:
    """Send lazy_job(name) with the routing key; return the task id once the broker has it."""
    try:
        result = lazy_job.apply_async(args=[name], routing_key=routing_key)
    except (OperationalError, OSError) as exc:
        raise BrokerUnreachable(str(exc) or exc.__class__.__name__) from exc
    return result.id
