"""The process's Prometheus metrics, one definition each, and the exposition of them.

Counters and histograms are updated where things happen (HTTP requests and Dash callbacks in
:mod:`observability.requests`, ingest in :mod:`ingest.service`, provider calls in
:mod:`gateway.calllog`, socket clients by the live hub). Figures that belong to the whole
deployment rather than to one process (queue depth, dead letters waiting) are read when the
metrics are scraped, by :class:`DeploymentCollector`.

Several processes (gunicorn instances, store workers) each write their values to files in the
folder named by the ``metrics_multiproc_dir`` setting (``FLEETLIGHT_METRICS_MULTIPROC_DIR``, set
for every process of one deployment, emptied before they start); a scrape of any web process then
sums every process, live or exited, through ``prometheus_client``'s multiprocess collector.
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from core.settings import get_settings

# prometheus_client picks its value store when it is first imported: the folder must be named before
_MULTIPROC_DIR = get_settings().metrics_multiproc_dir
if _MULTIPROC_DIR is not None:
    _MULTIPROC_DIR.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(_MULTIPROC_DIR))

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest  # noqa: E402  (after the folder is named, above)
from prometheus_client.core import GaugeMetricFamily, Metric  # noqa: E402
from prometheus_client.multiprocess import MultiProcessCollector  # noqa: E402
from prometheus_client.registry import REGISTRY, Collector  # noqa: E402

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter("fleetlight_http_requests_total", "HTTP requests answered, by route, method and status",
                        ["route", "method", "status"])
HTTP_LATENCY = Histogram("fleetlight_http_request_seconds", "HTTP request latency, by route and method",
                         ["route", "method"], buckets=_LATENCY_BUCKETS)
CALLBACK_LATENCY = Histogram("fleetlight_dash_callback_seconds", "Dash callback latency, by callback output",
                             ["callback"], buckets=_LATENCY_BUCKETS)
INGEST_POINTS = Counter("fleetlight_ingest_points_total",
                        "Telemetry points received, by outcome (stored, duplicate, rejected)", ["outcome"])
PROVIDER_CALLS = Counter("fleetlight_provider_calls_total",
                         "Gateway calls to external providers, by provider and outcome (ok, error, fallback, "
                         "rejected, replay)", ["provider", "outcome"])
PROVIDER_LATENCY = Histogram("fleetlight_provider_call_seconds", "Gateway call latency, by provider", ["provider"],
                             buckets=_LATENCY_BUCKETS)
SOCKET_CLIENTS = Gauge("fleetlight_socket_clients", "Live channel (Socket.IO) clients connected",
                       multiprocess_mode="livesum")

# providers of deployment-wide figures, installed by the composition root: name -> () -> value
_readers: dict[str, tuple[str, Callable[[], dict[str, float]]]] = {}
_CACHE_S = 5.0


def add_deployment_reader(name: str, documentation: str, read: Callable[[], dict[str, float]]) -> None:
    """Publish gauge ``name`` whose labelled values ``read()`` returns ({label value: number}) at scrape time."""
    _readers[name] = (documentation, read)


def clear_deployment_readers() -> None:
    """Forget every deployment reader (a new set of services is being installed)."""
    _readers.clear()
    DeploymentCollector.cache.clear()


class DeploymentCollector(Collector):
    """Gauges of the whole deployment (queue depth, dead letters), read at most every 5 s."""

    cache: dict[str, tuple[float, dict[str, float]]] = {}

    def collect(self) -> Iterator[Metric]:
        """Yield one gauge family per reader; a reader that fails yields nothing (and is logged)."""
        now = time.monotonic()
        for name, (documentation, read) in list(_readers.items()):
            cached = self.cache.get(name)
            if cached is None or now - cached[0] > _CACHE_S:
                try:
                    cached = (now, read())
                except Exception as exc:
                    log.warning("metric %s could not be read: %s: %s", name, type(exc).__name__, exc)
                    continue
                self.cache[name] = cached
            family = GaugeMetricFamily(name, documentation, labels=["name"])
            for label, value in sorted(cached[1].items()):
                family.add_metric([label], float(value))
            yield family


_deployment = DeploymentCollector()
REGISTRY.register(_deployment)


def exposition() -> bytes:
    """Return every metric in the Prometheus text format (summed over processes in multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        registry.register(_deployment)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def samples() -> list[dict[str, Any]]:
    """Return the exposition as rows {name, labels, value} (what the admin page shows)."""
    from prometheus_client.parser import text_string_to_metric_families

    rows = []
    for family in text_string_to_metric_families(exposition().decode()):
        for sample in family.samples:
            rows.append({"name": sample.name, "labels": dict(sample.labels), "value": sample.value})
    return rows
