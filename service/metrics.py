"""Request metrics in the Prometheus text format (``GET /metrics``), with prometheus-client.

Counting happens on every request, so it is kept cheap: plain counters per
(method, route template, status) and per-route latency buckets, updated on
the event loop, and turned into Prometheus metric families only when
scraped (a custom collector on a registry of the app's own). Counts are per
worker process: with ``--workers N`` a scrape reads the worker that answers
it, named by the ``pid`` label of ``mednet_worker_info``.

    >>> m = Metrics()
    >>> m.observe("GET", "/health", 200, 0.0004)
    >>> text = m.render().decode()
    >>> 'mednet_http_requests_total{method="GET",route="/health",status="200"} 1.0' in text
    True
    >>> 'mednet_http_request_duration_seconds_bucket{le="0.0005",method="GET",route="/health"} 1.0' in text
    True
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Callable, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from sqlalchemy.exc import SQLAlchemyError

#: Latency buckets, seconds: a referral takes well under a millisecond, coverage up to seconds.
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    """Requests by method, route template and status; a latency histogram by method and route."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, int], int] = {}
        #: (method, route) -> [count in each bucket (and +Inf last), sum of seconds]
        self.latency: dict[tuple[str, str], list[float]] = {}
        #: More families read when scraped (the ledger's overdue referrals): functions yielding metric families.
        self.gauges: list[Callable[[], Iterator[Metric]]] = []
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)  # a collector: it has collect()

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request (on every request's path: a few dictionary and list updates)."""
        key = (method, route, status)
        self.counts[key] = self.counts.get(key, 0) + 1
        buckets = self.latency.get((method, route))
        if buckets is None:
            buckets = self.latency[(method, route)] = [0.0] * (len(BUCKETS) + 2)
        buckets[bisect.bisect_left(BUCKETS, seconds)] += 1
        buckets[-1] += seconds

    def collect(self) -> Iterator[Metric]:
        """The metric families, built when scraped."""
        requests = CounterMetricFamily("mednet_http_requests", "HTTP requests answered",
                                       labels=("method", "route", "status"))
        for (method, route, status), count in sorted(self.counts.items()):
            requests.add_metric((method, route, str(status)), count)
        yield requests
        latency = HistogramMetricFamily("mednet_http_request_duration_seconds", "time to answer, seconds",
                                        labels=("method", "route"))
        for (method, route), buckets in sorted(self.latency.items()):
            cumulative: list[tuple[str, float]] = []
            total = 0.0
            for bound, in_bucket in zip((*map(str, BUCKETS), "+Inf"), buckets[:-1], strict=True):
                total += in_bucket
                cumulative.append((bound, total))
            latency.add_metric((method, route), cumulative, buckets[-1])
        yield latency
        worker = GaugeMetricFamily("mednet_worker_info", "the worker process answering this scrape", labels=("pid",))
        worker.add_metric((str(os.getpid()),), 1)
        yield worker
        for gauges in self.gauges:
            yield from gauges()

    def render(self) -> bytes:
        return generate_latest(self.registry)


def overdue_families(counts: Callable[[], dict[tuple[str, str, str], int]]) -> Callable[[], Iterator[Metric]]:
    """The ledger's overdue referrals as a gauge (the same for every worker: read from the database when scraped).

    >>> family = next(overdue_families(lambda: {("quzhou", "respond", "urgent"): 2})())
    >>> family.name, family.samples[0].labels, family.samples[0].value
    ('mednet_referrals_overdue', {'region': 'quzhou', 'measure': 'respond', 'priority': 'urgent'}, 2)
    """
    def collect() -> Iterator[Metric]:
        gauge = GaugeMetricFamily("mednet_referrals_overdue", "open referrals past their service level now "
                                  "(respond: not yet accepted, rejected or redirected; book: accepted, not booked)",
                                  labels=("region", "measure", "priority"))
        try:
            found = counts()
        except SQLAlchemyError:  # the database away: the request metrics still answer, without this gauge's samples
            found = {}
        for (region, measure, priority), count in sorted(found.items()):
            gauge.add_metric((region, measure, priority), count)
        yield gauge
    return collect
