"""The redeploy bench's load: its baseline ends only once each client was served in it, and its
summary."""

from __future__ import annotations

import threading
import time

from bench import redeploy as bench
from bench.redeploy import Load, Sample


def test_the_wait_returns_once_each_client_had_a_request_end_since_the_mark():
    load = Load(port=1, clients=2)
    mark = time.monotonic()
    load.samples.append(Sample(mark - 1, True, 0.1, False, client=1))  # before the mark

    def requests_of_client_0_then_1():
        for client in (0, 0, 1):  # client 0 alone, however often, is not enough
            time.sleep(0.2)
            load.samples.append(Sample(time.monotonic(), True, 0.2, False, client=client))

    thread = threading.Thread(target=requests_of_client_0_then_1)
    thread.start()
    ended = load.wait_for_each_client(after=mark, timeout=10)
    thread.join()
    assert ended - mark >= 0.6
    assert bench.summary(load.samples, mark, ended)["requests"] == 3


def test_waiting_gives_up_at_its_timeout():
    load = Load(port=1, clients=1)
    started = time.monotonic()
    load.wait_for_each_client(after=started, timeout=0.2)
    assert 0.2 <= time.monotonic() - started < 5


def test_a_summary_counts_failures_and_rates_only_its_window():
    samples = [
        Sample(1.0, True, 0.01, False),
        Sample(2.0, False, 0.5, False),
        Sample(3.0, True, 0.03, True),
        Sample(9.0, True, 0.01, False),
    ]
    window = bench.summary(samples, 1.0, 3.0)
    assert (window["requests"], window["failed"], window["rps"]) == (3, 1, 1.5)
    assert window["max_ms"] == 30.0  # latencies of the successful requests only
