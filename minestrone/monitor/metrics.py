"""The monitor's Prometheus metrics, computed at each scrape from the tables and the broker."""

from __future__ import annotations

from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily

from minestrone.errors import BrokerUnreachable
from minestrone.monitor import charts, queue_wait
from minestrone.monitor.models import TaskState, WorkerState

# Tasks whose last event is this recent are counted (the metrics are a recent window of a
# table that expires old rows, not counters since the start).
WINDOW = timedelta(hours=1)
RUNTIME_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
QUEUE_WAIT_BUCKETS = (0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)


class MonitorCollector:
    """Tasks by name and state, runtime histograms, workers' liveness and queue depths."""

    def __init__(self, now: datetime, depths=None):
        self.now = now
        self.depths = depths  # callable returning [QueueDepth]; None: the broker is not asked

    def collect(self):
        """Yield every metric family (prometheus_client's collector protocol)."""
        since = self.now - WINDOW
        tasks = GaugeMetricFamily(
            "minestrone_tasks",
            "Tasks whose last event is in the last hour, by task name and state.",
            labels=["name", "state"],
        )
        for name, state, count in charts.counts_by_name_and_state(since):
            tasks.add_metric([name, state], count)
        yield tasks

        runtime = HistogramMetricFamily(
            "minestrone_task_runtime_seconds",
            "Runtime of the tasks that succeeded in the last hour, by task name.",
            labels=["name"],
        )
        _fill(runtime, charts.runtimes_by_name(since, RUNTIME_BUCKETS), RUNTIME_BUCKETS)
        yield runtime

        waits = HistogramMetricFamily(
            "minestrone_task_queue_wait_seconds",
            "Time from sent to started of the tasks whose last event is in the last hour, by "
            "task name.",
            labels=["name"],
        )
        histograms = queue_wait.histogram_by_name(since, QUEUE_WAIT_BUCKETS)
        _fill(waits, histograms, QUEUE_WAIT_BUCKETS)
        yield waits

        up = GaugeMetricFamily(
            "minestrone_worker_up", "1 while the worker's heartbeats arrive.", labels=["worker"]
        )
        active = GaugeMetricFamily(
            "minestrone_worker_active_tasks", "Tasks the worker runs now.", labels=["worker"]
        )
        for worker in WorkerState.objects.order_by("hostname")[:1000]:
            up.add_metric([worker.hostname], 1 if worker.is_online(self.now) else 0)
            if worker.active is not None:
                active.add_metric([worker.hostname], worker.active)
        yield up
        yield active
        yield self._last_recorded()
        yield from self._queues()

    def _last_recorded(self) -> GaugeMetricFamily:
        """When the camera last recorded a task event and a heartbeat (its liveness)."""
        last = GaugeMetricFamily(
            "minestrone_last_recorded_timestamp_seconds",
            "Time of the newest task event (kind=task) and worker heartbeat (kind=heartbeat) "
            "the camera recorded; absent before the first.",
            labels=["kind"],
        )
        newest = {
            "task": TaskState.objects.newest_event_time(),
            "heartbeat": WorkerState.objects.newest_heartbeat(),
        }
        for kind, when in newest.items():
            if when is not None:
                last.add_metric([kind], when.timestamp())
        return last

    def _queues(self):
        if self.depths is None:
            return
        broker_up = GaugeMetricFamily("minestrone_broker_up", "1 when the broker answered.")
        ready = GaugeMetricFamily(
            "minestrone_queue_messages_ready", "Messages waiting in the queue.", labels=["queue"]
        )
        consumers = GaugeMetricFamily(
            "minestrone_queue_consumers", "Consumers attached to the queue.", labels=["queue"]
        )
        unacked = GaugeMetricFamily(
            "minestrone_queue_messages_unacknowledged",
            "Messages delivered but not yet acknowledged (from the management API or Redis).",
            labels=["queue"],
        )
        try:
            depths = self.depths()
        except BrokerUnreachable:
            broker_up.add_metric([], 0)
            yield broker_up
            return
        broker_up.add_metric([], 1)
        yield from _placement(depths)
        for depth in depths:
            if not depth.missing:
                ready.add_metric([depth.name], depth.ready)
                if depth.consumers is not None:  # None: Redis keeps no count
                    consumers.add_metric([depth.name], depth.consumers)
                if depth.unacked is not None:
                    unacked.add_metric([depth.name], depth.unacked)
        yield broker_up
        yield ready
        yield consumers
        if unacked.samples:
            yield unacked


def _placement(depths):
    """The broker's nodes (running or not) and each queue's leader and members, when the
    management API gave them."""
    nodes = getattr(depths, "nodes", ())
    if nodes:
        up = GaugeMetricFamily(
            "minestrone_broker_node_up", "1 when the broker node runs.", labels=["node"]
        )
        for node in nodes:
            up.add_metric([node.name], 1 if node.running else 0)
        yield up
    leader = GaugeMetricFamily(
        "minestrone_queue_leader", "1 for the node leading the queue.", labels=["queue", "node"]
    )
    member = GaugeMetricFamily(
        "minestrone_queue_member_online",
        "A replicated (quorum) queue's members: 1 online, 0 down.",
        labels=["queue", "node"],
    )
    for depth in depths:
        if depth.missing:
            continue
        if depth.leader:
            leader.add_metric([depth.name, depth.leader], 1)
        for name in depth.members:
            member.add_metric([depth.name, name], 1 if name in depth.online else 0)
    for family in (leader, member):
        if family.samples:
            yield family


def _fill(family: HistogramMetricFamily, histograms: dict, bounds: tuple[float, ...]) -> None:
    """Add {name: [cumulative counts…, total, sum]} to a histogram family."""
    for name, values in histograms.items():
        *cumulative, total, seconds = values
        buckets = [(str(bound), n) for bound, n in zip(bounds, cumulative, strict=True)]
        buckets.append(("+Inf", total))
        family.add_metric([name], buckets, sum_value=seconds)


def render(now: datetime, depths=None) -> bytes:
    """The metrics in Prometheus' text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(MonitorCollector(now, depths))
    return generate_latest(registry)
