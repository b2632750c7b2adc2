"""Quorum against classic queues on the same RabbitMQ node, in one run.

    python -m bench.queues [--messages 3000]

Starts one RabbitMQ through backing_services. For each kind of queue, the classic queue the
tutorial declared and the quorum queue minestrone declares now (``minestrone.queues``: delivery
limit, at-least-once dead lettering, reject-publish), bound to a topic exchange with ``tasks.#``:
publishes persistent messages one at a time, each waiting for its publisher confirm as
``apply_async`` does, then consumes them as a worker of two processes does (prefetch 2, one
acknowledgement per message); ``--rounds`` times, each kind first in turn. Prints one JSON
object: per kind, the rounds' medians of publishes/s, a publish's median and p95 wait, and
consumed and acknowledged messages/s; and quorum's share of classic's.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from bench.broker import timed_publishes, wait_figures

ROOT = Path(__file__).resolve().parents[1]
PREFETCH = 2  # `celeryd -c 2` with a prefetch multiplier of 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The benchmark's options."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.queues", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--messages", type=int, default=3000, help="messages per kind and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, the kinds' order swapped")
    return parser.parse_args(argv)


def declared(channel, kind: str):
    """The bench's queue of this kind, declared empty, and its exchange."""
    from kombu import Exchange, Queue

    from minestrone import queues

    arguments = queues.quorum_arguments(queues.DEFAULT_DELIVERY_LIMIT) if kind == "quorum" else None
    exchange = Exchange(f"bench.{kind}", type="topic", durable=True)
    queue = Queue(f"bench.{kind}", exchange, routing_key="tasks.#", durable=True,
                  queue_arguments=arguments)(channel)  # fmt: skip
    queue.declare()
    queue.purge()
    return queue, exchange


def consume(connection, queue, messages: int) -> float:
    """Take every message as a worker does (prefetch, one ack each); the seconds it took."""
    taken = []

    def on_message(body, message):
        message.ack()
        taken.append(1)

    consumer_channel = connection.channel()
    began = time.perf_counter()
    with connection.Consumer([queue], channel=consumer_channel, callbacks=[on_message],
                             prefetch_count=PREFETCH):  # fmt: skip
        while len(taken) < messages:
            connection.drain_events(timeout=10)
    seconds = time.perf_counter() - began
    consumer_channel.close()
    return seconds


def one_kind(url: str, kind: str, messages: int) -> dict:
    """The figures of one kind of queue."""
    from kombu import Connection

    with Connection(url, transport_options={"confirm_publish": True}) as connection:
        channel = connection.channel()
        queue, exchange = declared(channel, kind)
        producer = connection.Producer(channel, exchange=exchange)
        published, waits = timed_publishes(producer, messages)
        consumed = consume(connection, queue, messages)
        queue.delete()
        exchange(channel).delete()
    return {
        "publishes_per_s": round(messages / published),
        **wait_figures(waits),
        "consumes_per_s": round(messages / consumed),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark on both kinds of queue; print its JSON."""
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from backing_services import choice

    report = {"messages": args.messages, "rounds": args.rounds}
    runs = {"classic": [], "quorum": []}
    with choice.rabbitmq_server() as rabbitmq:
        url = rabbitmq.add_vhost("bench_queues")
        for round_number in range(args.rounds):  # each kind first in turn: load drifts
            for kind in sorted(runs, reverse=bool(round_number % 2)):
                runs[kind].append(one_kind(url, kind, args.messages))
    for kind, figures in runs.items():
        report[kind] = {key: statistics.median(run[key] for run in figures) for key in figures[0]}
    report["quorum_vs_classic"] = {
        key: round(report["quorum"][key] / report["classic"][key], 2)
        for key in ("publishes_per_s", "consumes_per_s")
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
