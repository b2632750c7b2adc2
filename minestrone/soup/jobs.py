"""Queue the tutorial's job on the broker, reporting an unreachable broker as one error."""

from minestrone.errors import reaching_the_broker
from minestrone.soup.tasks import lazy_job


def queue_lazy_job(name: str, routing_key: str) -> str:
    """Send lazy_job(name) with the routing key; return the task id once the broker has it."""
    with reaching_the_broker():
        result = lazy_job.apply_async(args=[name], routing_key=routing_key)
    return result.id
