"""Prometheus metrics of the scoring service, in a registry of its own (text served on ``/metrics``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LABELS = ("environment", "pipeline", "version")
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "steward_scoring_requests",
            "Predict requests answered",
            [*LABELS, "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "steward_scoring_latency_seconds",
            "Predict latency",
            LABELS,
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "steward_scoring_errors",
            "Predict requests that failed",
            [*LABELS, "kind"],
            registry=self.registry,
        )
        self.fallbacks = Counter(
            "steward_scoring_fallback_answers", "Answers the fallback gave", LABELS, registry=self.registry
        )
        self.refused = Counter(
            "steward_scoring_refused",
            "Requests refused before predict",
            ["environment", "pipeline", "status"],
            registry=self.registry,
        )
        self.log_pending = Gauge("steward_scoring_log_pending", "Log rows queued", registry=self.registry)
        self.log_spooled = Gauge(
            "steward_scoring_log_spooled", "Log rows ever spooled", registry=self.registry
        )

    def text(self) -> bytes:
        return generate_latest(self.registry)
