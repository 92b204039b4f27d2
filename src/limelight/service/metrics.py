"""Prometheus metrics for one app: requests and latency per route, events ingested, model version.

Each app gets its own `CollectorRegistry` so several apps (tests, workers) never collide; the
middleware is plain ASGI (no per-request task) to keep its cost to a few microseconds.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "MetricsMiddleware", "ServiceMetrics"]

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class ServiceMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "limelight_requests_total",
            "HTTP requests served.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "limelight_request_duration_seconds",
            "Time from request to last byte of the response.",
            ["method", "route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.events = Counter(
            "limelight_events_ingested_total",
            "Viewing events stored (duplicates excluded).",
            registry=self.registry,
        )
        self.duplicates = Counter(
            "limelight_events_duplicate_total",
            "Viewing events ignored as already stored.",
            registry=self.registry,
        )
        self.folded = Counter(
            "limelight_events_folded_total",
            "Viewing events folded into the live engine.",
            registry=self.registry,
        )
        self.model_version = Gauge(
            "limelight_model_version",
            "Registry version of the model being served (0 = none).",
            registry=self.registry,
        )
        self.model_swaps = Counter(
            "limelight_model_swaps_total", "Times the served model was swapped.", registry=self.registry
        )
        self.rate_limited = Counter(
            "limelight_rate_limited_total",
            "Requests refused by a key's rate limit.",
            ["key_id"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts every HTTP request by its route template (not its raw path: no unbounded labels)."""

    def __init__(self, app: Any, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics
        # Label children by (method, template, status): `labels()` takes a lock and builds a key each time.
        self._children: dict[tuple[str, str, str], tuple[Any, Any]] = {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def _send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, _send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            labels = (scope.get("method", "GET"), template, str(status))
            children = self._children.get(labels)
            if children is None:
                children = self._children[labels] = (
                    self.metrics.requests.labels(*labels),
                    self.metrics.latency.labels(*labels[:2]),
                )
            children[0].inc()
            children[1].observe(time.perf_counter() - start)
