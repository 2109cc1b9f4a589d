"""Request metrics in the Prometheus text format (``GET /metrics``), with prometheus-client.

Each app has a registry of its own (several apps may live in one process,
as in tests). Counts are per worker process: with ``--workers N`` a scrape
reads the worker that answers it, named by the ``pid`` label.

    >>> m = Metrics()
    >>> m.observe("GET", "/health", 200, 0.0004)
    >>> 'mednet_http_requests_total{method="GET",route="/health",status="200"' in m.render().decode()
    True
"""

from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

#: Latency buckets, seconds: a referral takes well under a millisecond, coverage up to seconds.
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    """Requests by method, route template and status; a latency histogram by route; requests in flight."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        labels = {"pid": str(os.getpid())}
        self.requests = Counter("mednet_http_requests", "HTTP requests answered", ("method", "route", "status"),
                                registry=self.registry)
        self.latency = Histogram("mednet_http_request_duration_seconds", "time to answer, seconds",
                                 ("method", "route"), buckets=BUCKETS, registry=self.registry)
        self.worker = Gauge("mednet_worker_info", "the worker process answering this scrape", ("pid",),
                            registry=self.registry)
        self.worker.labels(**labels).set(1)
        self._count: dict[tuple[str, str, int], Counter] = {}
        self._time: dict[tuple[str, str], Histogram] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request (children cached: this is on every request's path)."""
        count = self._count.get((method, route, status))
        if count is None:
            count = self._count[(method, route, status)] = self.requests.labels(method, route, str(status))
        count.inc()
        timing = self._time.get((method, route))
        if timing is None:
            timing = self._time[(method, route)] = self.latency.labels(method, route)
        timing.observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
