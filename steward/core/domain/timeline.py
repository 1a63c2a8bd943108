"""The event timeline: which audit events a troubleshooter reads in one chronological view, and how.

Deployments, approvals, alerts, runs, fail-overs and swaps are all audit
events already; the timeline picks those, names their category and the
pipeline and environment they concern, so one filter works across them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

CATEGORIES: tuple[tuple[str, str], ...] = (  # action prefix -> category, first match wins
    ("deployment.failover", "failover"),
    ("deployment.failback", "failover"),
    ("deployment.swap", "swap"),
    ("deployment.", "deployment"),
    ("promotion.execute", "deployment"),
    ("promotion.", "approval"),
    ("alert.", "alert"),
    ("batch.run", "run"),
    ("breaker.", "failover"),
    ("sla.breach", "alert"),
    ("heartbeat.", "alert"),
    ("artifact.integrity", "alert"),
)


def category_of(action: str) -> str | None:
    return next((category for prefix, category in CATEGORIES if action.startswith(prefix)), None)


@dataclass(frozen=True)
class TimelineEntry:
    seq: int
    occurred_at: datetime
    category: str
    action: str
    actor: str
    outcome: str
    pipeline: str | None
    environment: str | None
    object_ref: str
    detail: str


def where_of(
    object_id: str, after: Mapping[str, Any] | None, before: Mapping[str, Any] | None
) -> tuple[str | None, str | None]:
    """(pipeline, environment) an event concerns: from its ``after``/``before``, or an ``Env/pipeline`` id."""
    data = {**(before or {}), **(after or {})}
    pipeline = data.get("pipeline") or data.get("pipeline_name")
    environment = data.get("environment") or data.get("environment_name")
    if (pipeline is None or environment is None) and object_id.count("/") == 1:
        env, name = object_id.split("/")
        if not name.startswith("v"):
            environment, pipeline = environment or env, pipeline or name
    return (str(pipeline) if pipeline else None, str(environment) if environment else None)
