"""Broker round trips, RabbitMQ beside Redis in the same run, with the app's delivery settings.

    python -m bench.broker [--messages 2000]

Starts a RabbitMQ and a Redis through backing_services (Redis as its servers run: the
append-only file synced at every write), and a local Redis syncing once a second, for the
cost of ``appendfsync always``. On each, with the transport options of
``minestrone.delivery`` and the tutorial's routing (exchange ``default``, queue ``default``
bound with ``tasks.#``), it publishes persistent messages one at a time, each waited for as
``apply_async`` waits (a publisher confirm on RabbitMQ, the server's answer on Redis), then
takes them back one at a time, acknowledging each. Prints one JSON object: publishes and
acknowledged takes per second, and the median and p95 of a publish's wait.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The benchmark's options."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.broker", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--messages", type=int, default=2000, help="messages per broker")
    return parser.parse_args(argv)


def round_trips(url: str, messages: int) -> dict:
    """Publish then take back ``messages`` messages on the broker at ``url``; the figures."""
    from kombu import Connection, Exchange, Queue

    from minestrone import delivery

    exchange = Exchange("default", type="topic", durable=True)
    queue = Queue("default", exchange, routing_key="tasks.#", durable=True)
    options = delivery.transport_options(url, 5.0)
    with Connection(url, transport_options=options, connect_timeout=5) as connection:
        channel = connection.channel()
        bound = queue(channel)
        bound.declare()
        bound.purge()
        producer = connection.Producer(channel, exchange=exchange)
        published, waits = timed_publishes(producer, messages)
        began = time.perf_counter()
        taken = 0
        while (message := bound.get(no_ack=False)) is not None:
            message.ack()
            taken += 1
        consumed = time.perf_counter() - began
        bound.delete()
    if taken != messages:
        raise SystemExit(f"{delivery.broker_kind(url)}: took back {taken} of {messages}")
    return {
        "publishes_per_s": round(messages / published),
        "takes_per_s": round(messages / consumed),
        **wait_figures(waits),
    }


def timed_publishes(producer, messages: int) -> tuple[float, list[float]]:
    """Publish persistent messages one at a time, each waited for as ``apply_async`` waits;
    the seconds it took and each publish's wait."""
    waits = []
    began = time.perf_counter()
    for n in range(messages):
        start = time.perf_counter()
        producer.publish({"n": n}, routing_key="tasks.bench", delivery_mode=2)
        waits.append(time.perf_counter() - start)
    return time.perf_counter() - began, waits


def wait_figures(waits: list[float]) -> dict:
    """A publish's median and p95 wait, in milliseconds."""
    ordered = sorted(waits)
    return {
        "publish_ms_p50": round(statistics.median(ordered) * 1000, 3),
        "publish_ms_p95": round(ordered[int(len(ordered) * 0.95)] * 1000, 3),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark on both brokers; print its JSON."""
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from backing_services import LocalRedis, choice

    report = {"messages": args.messages}
    with ExitStack() as stack:
        rabbitmq = stack.enter_context(choice.rabbitmq_server())
        redis = stack.enter_context(choice.redis_server())
        report["rabbitmq"] = round_trips(rabbitmq.add_vhost("bench_broker"), args.messages)
        lazy = stack.enter_context(LocalRedis(appendfsync="everysec"))
        for name, server in (("redis", redis), ("redis_appendfsync_everysec", lazy)):
            number = server.claim_db()
            try:
                report[name] = round_trips(server.db_url(number), args.messages)
            finally:
                server.release_db(number)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
