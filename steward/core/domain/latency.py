"""A mergeable latency histogram and request tallies: what a rollup holds, and percentiles from it.

Buckets are fixed and log-spaced, the same for every process and every row:
bucket 0 holds latencies up to ``LOWEST_MS``, bucket ``i`` the latencies in
``(edge(i-1), edge(i)]`` with ``edge(i) = LOWEST_MS * GROWTH**i``. Adding two
histograms is adding their counts, so a histogram merged from a thousand
minutes is identical to one built in a single pass over the same requests,
and a percentile read from it is the upper edge of the bucket holding that
rank (capped at the largest latency seen): never below the true value, and at
most ``GROWTH - 1`` (4 %) above it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

LOWEST_MS = 0.1
GROWTH = 1.04
TOP_BUCKET = math.ceil(math.log(600_000.0 / LOWEST_MS) / math.log(GROWTH))  # ten minutes and above
_LOG_GROWTH = math.log(GROWTH)


def bucket_of(latency_ms: float) -> int:
    """The bucket a latency falls in (negative and NaN count as 0 ms; ten minutes and above share the top)."""
    if not latency_ms > LOWEST_MS:  # also NaN
        return 0
    index = math.ceil(math.log(latency_ms / LOWEST_MS) / _LOG_GROWTH - 1e-9)
    return min(max(index, 1), TOP_BUCKET)


def edge(bucket: int) -> float:
    """The upper edge of ``bucket`` in ms."""
    return LOWEST_MS * GROWTH**bucket


@dataclass
class Histogram:
    """Counts per bucket (sparse), with the largest latency seen so a percentile never exceeds it."""

    counts: dict[int, int] = field(default_factory=dict)
    max_ms: float | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def add(self, latency_ms: float) -> None:
        bucket = bucket_of(latency_ms)
        self.counts[bucket] = self.counts.get(bucket, 0) + 1
        if math.isfinite(latency_ms) and (self.max_ms is None or latency_ms > self.max_ms):
            self.max_ms = latency_ms

    def merge(self, other: Histogram) -> None:
        for bucket, count in other.counts.items():
            self.counts[bucket] = self.counts.get(bucket, 0) + count
        if other.max_ms is not None and (self.max_ms is None or other.max_ms > self.max_ms):
            self.max_ms = other.max_ms

    def percentile(self, fraction: float) -> float | None:
        """The latency at ``fraction`` (0.95 = p95) by rank: its bucket's upper edge, None if empty."""
        total = self.total
        if total == 0:
            return None
        rank = max(1, math.ceil(fraction * total))
        seen = 0
        for bucket in sorted(self.counts):
            seen += self.counts[bucket]
            if seen >= rank:
                value = edge(bucket)
                return min(value, self.max_ms) if self.max_ms is not None else value
        return self.max_ms  # pragma: no cover - rank <= total always lands above

    def to_json(self) -> str:
        return json.dumps({str(k): v for k, v in sorted(self.counts.items())}, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str, max_ms: float | None = None) -> Histogram:
        data: Mapping[str, int] = json.loads(text or "{}")
        return cls({int(k): int(v) for k, v in data.items()}, max_ms)

    @classmethod
    def of(cls, latencies: Iterable[float]) -> Histogram:
        histogram = cls()
        for value in latencies:
            histogram.add(value)
        return histogram


@dataclass
class Tally:
    """Requests, errors, fallback answers and latencies of some stretch of traffic; adding two is exact."""

    requests: int = 0
    errors: int = 0
    fallbacks: int = 0
    latency_sum_ms: float = 0.0
    histogram: Histogram = field(default_factory=Histogram)

    def add_request(self, latency_ms: float | None, *, error: bool, fallback: bool) -> None:
        self.requests += 1
        self.errors += int(error)
        self.fallbacks += int(fallback)
        if latency_ms is not None:
            self.histogram.add(latency_ms)
            if math.isfinite(latency_ms):
                self.latency_sum_ms += latency_ms

    def merge(self, other: Tally) -> None:
        self.requests += other.requests
        self.errors += other.errors
        self.fallbacks += other.fallbacks
        self.latency_sum_ms += other.latency_sum_ms
        self.histogram.merge(other.histogram)

    @property
    def latency_count(self) -> int:
        return self.histogram.total

    def percentiles(self) -> tuple[float | None, float | None, float | None]:
        return (
            self.histogram.percentile(0.50),
            self.histogram.percentile(0.95),
            self.histogram.percentile(0.99),
        )


def latency_text(ms: float | None, missing: str = "-") -> str:
    """A latency as a person reads it: ``49.1 ms``, ``1.74 s`` (never ``1.74e+03 ms``)."""
    if ms is None or not math.isfinite(ms):
        return missing
    if ms >= 1000:
        return f"{ms / 1000:.3g} s"
    if ms >= 100:
        return f"{ms:.0f} ms"
    return f"{ms:.3g} ms"
