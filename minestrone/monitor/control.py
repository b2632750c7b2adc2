"""The admin's actions sent to the workers through Celery's remote control, with their replies."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from minestrone.errors import reaching_the_broker
from minestrone.monitor.errors import NoWorkerSelected


def _check_destination(destination) -> None:
    """Refuse an empty destination (or an empty name): Celery sends it to every worker."""
    if destination is not None and (not destination or not all(destination)):
        raise NoWorkerSelected("no worker selected")


@dataclass(frozen=True)
class Outcome:
    """What a command did: the workers that answered and what each said."""

    replies: dict[str, str] = field(default_factory=dict)
    waited: float | None = None  # seconds waited for replies; None: no reply is sent
    # The workers whose reply says the command changed nothing there.
    no_effect: frozenset[str] = frozenset()
    # Workers whose answer mattered (those recorded holding the tasks) that had not answered
    # when the wait ended: it ends once as many workers answered as were online.
    unanswered: frozenset[str] = frozenset()

    @property
    def changed_nothing(self) -> bool:
        """True when workers answered and every one of them says nothing changed (never while
        a worker whose answer mattered is still to answer)."""
        return bool(self.replies) and not self.unanswered and set(self.replies) <= self.no_effect

    @property
    def answered(self) -> bool:
        """True when at least one worker replied."""
        return bool(self.replies)

    @property
    def failed(self) -> bool:
        """True when a worker answered with an error."""
        return any(reply.startswith("error:") for reply in self.replies.values())

    def describe(self) -> str:
        """The replies in one line: "w1@host: ok …; w2@host: error: …"."""
        if self.replies:
            said = "; ".join(f"{host}: {reply}" for host, reply in sorted(self.replies.items()))
            late = "".join(f"; {host}: no answer yet" for host in sorted(self.unanswered))
            return said + late
        if self.waited is None:
            return "sent (workers do not reply to this command)"
        return f"no worker answered within {self.waited:g} s"


def _replies(answers: Sequence[dict] | None) -> dict[str, str]:
    """Flatten Celery's replies, [{hostname: {"ok": text}}, …], into {hostname: text}."""
    replies: dict[str, str] = {}
    for answer in answers or []:
        if not isinstance(answer, dict):
            continue
        for host, body in answer.items():
            if isinstance(body, dict) and "error" in body:
                replies[str(host)] = f"error: {body['error']}"
            elif isinstance(body, dict) and "ok" in body:
                replies[str(host)] = str(body["ok"])
            else:
                replies[str(host)] = str(body)
    return replies


# Celery's replies that mean "nothing happened", and what to tell the user instead.
NO_EFFECT = {
    "task events already disabled": (
        "no effect: Celery answers “already disabled” both when task events are off and when "
        "the worker was started with -E (or worker_send_task_events), which this command "
        "cannot switch off; to stop such a worker's task events, restart it without -E"
    ),
    "task events already enabled": "no change: task events were already on",
    "terminate: tasks unknown": (
        "nothing to stop: the task is not running on this worker (it finished, or has not "
        "started); it is flagged as revoked, so it will not run if it is still queued"
    ),
}


def explain(replies: dict[str, str]) -> tuple[dict[str, str], frozenset[str]]:
    """Replace Celery's misleading replies with plain ones; return them and the hosts where the
    command changed nothing."""
    plain, no_effect = {}, set()
    for host, reply in replies.items():
        if reply in NO_EFFECT:
            plain[host] = NO_EFFECT[reply]
            no_effect.add(host)
        elif reply.startswith("terminate: "):
            plain[host] = "stopped " + reply.removeprefix("terminate: ")
        else:
            plain[host] = reply
    return plain, frozenset(no_effect)


class RemoteControl:
    """Send revoke, rate-limit, shutdown and event switches; collect the workers' replies."""

    def __init__(self, control, timeout: float):
        self.control = control  # a Celery app's `control`, or a fake one in tests
        self.timeout = timeout

    def _ask(self, command: str, *args, awaited=(), **kwargs) -> Outcome:
        _check_destination(kwargs.get("destination"))
        with reaching_the_broker():
            answers = getattr(self.control, command)(
                *args, reply=True, timeout=self.timeout, **kwargs
            )
        replies, no_effect = explain(_replies(answers))
        unanswered = frozenset(awaited) - set(replies) if replies else frozenset()
        return Outcome(
            replies=replies, waited=self.timeout, no_effect=no_effect, unanswered=unanswered
        )

    def revoke(
        self,
        task_ids: list[str],
        signal: str | None = None,
        expected: int | None = None,
        holders: Iterable[str] = (),
    ) -> Outcome:
        """Revoke tasks; with a signal (SIGTERM, SIGKILL), also end them if running; with
        `expected`, stop waiting once that many workers have answered (`holders`: the workers
        recorded holding the tasks, named if they had not answered by then)."""
        options = {"limit": expected} if expected else {}
        if signal is not None:
            options.update(terminate=True, signal=signal)
        return self._ask("revoke", task_ids, awaited=holders, **options)

    def rate_limit(
        self, task_name: str, rate: str, hostnames=None, expected: int | None = None
    ) -> Outcome:
        """Set a task's rate limit on every worker (or on these); with `expected`, stop waiting
        once that many workers have answered."""
        options = {"limit": expected} if expected else {}
        if hostnames is None:
            return self._ask("rate_limit", task_name, rate, **options)
        return self._ask("rate_limit", task_name, rate, destination=hostnames, **options)

    def pool_grow(self, hostname: str, n: int) -> Outcome:
        """Start n more pool processes."""
        return self._ask("pool_grow", n, destination=[hostname])

    def pool_shrink(self, hostname: str, n: int) -> Outcome:
        """Stop n pool processes."""
        return self._ask("pool_shrink", n, destination=[hostname])

    def autoscale(self, hostname: str, maximum: int, minimum: int) -> Outcome:
        """Set the autoscaler's bounds (a worker started without --autoscale refuses)."""
        return self._ask("autoscale", maximum, minimum, destination=[hostname])

    def add_consumer(self, hostname: str, queue: str, exchange: str, binding_key: str) -> Outcome:
        """Consume from a queue, declared and bound to the topic exchange if needed."""
        return self._ask(
            "add_consumer",
            queue,
            exchange=exchange,
            exchange_type="topic",
            routing_key=binding_key,
            destination=[hostname],
        )

    def cancel_consumer(self, hostname: str, queue: str) -> Outcome:
        """Stop consuming from a queue."""
        return self._ask("cancel_consumer", queue, destination=[hostname])

    def time_limit(
        self,
        task_name: str,
        soft: float | None,
        hard: float | None,
        hostnames=None,
        expected: int | None = None,
    ) -> Outcome:
        """Set a task's soft and hard time limits (seconds; None removes one); sent to every
        worker, with `expected`, stop waiting once that many workers have answered."""
        options = {"limit": expected} if expected and hostnames is None else {}
        return self._ask(
            "time_limit", task_name, soft=soft, hard=hard, destination=hostnames, **options
        )

    def enable_events(self, hostnames: list[str]) -> Outcome:
        """Make these workers send task events."""
        return self._ask("enable_events", destination=hostnames)

    def disable_events(self, hostnames: list[str]) -> Outcome:
        """Make these workers stop sending task events."""
        return self._ask("disable_events", destination=hostnames)

    def shutdown(self, hostnames: list[str]) -> Outcome:
        """Ask these workers to shut down (warm: running tasks finish); they do not reply."""
        _check_destination(hostnames or [])
        with reaching_the_broker():
            self.control.shutdown(destination=hostnames)
        return Outcome(waited=None)
