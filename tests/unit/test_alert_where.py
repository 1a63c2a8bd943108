"""An incident names its place in words (pipeline in environment, then the monitor or object), never a bare id."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from steward.core.domain.alerts import Alert, AlertStatus
from steward.core.domain.signals import Severity

WHEN = datetime(2026, 12, 7, tzinfo=UTC)


def alert(object_type: str, object_id: str, pipeline: str | None, environment: str | None) -> Alert:
    return Alert(
        id=1,
        fingerprint="f",
        kind="k",
        severity=Severity.WARNING,
        title="t",
        detail="",
        pipeline=pipeline,
        object_type=object_type,
        object_id=object_id,
        first_seq=1,
        last_seq=1,
        count=1,
        status=AlertStatus.OPEN,
        opened_at=WHEN,
        last_seen_at=WHEN,
        acknowledged_by=None,
        acknowledged_at=None,
        acknowledge_comment="",
        resolved_by=None,
        resolved_at=None,
        resolution="",
        environment=environment,
    )


@pytest.mark.parametrize(
    ("object_type", "object_id", "pipeline", "environment", "words"),
    [
        (
            "monitor",
            "credit/production",
            "credit-default",
            "Prod",
            "credit-default in Prod, monitor 'credit/production'",
        ),
        ("monitor", "3", "credit-default", "Prod", "credit-default in Prod, monitor #3"),  # a row from before
        ("deployment", "Prod/bike-demand", "bike-demand", "Prod", "bike-demand in Prod"),
        ("sla", "Test/credit-default", "credit-default", "Test", "credit-default in Test"),
        ("alert_source", "Prod/bike-demand", "bike-demand", "Prod", "bike-demand in Prod"),
        ("alert_source", "nightly scoring", "bike-demand", "Prod", "bike-demand in Prod, nightly scoring"),
        ("pipeline_version", "toy/v1", "toy", None, "toy, version v1"),
        ("component", "worker/main", None, None, "component 'worker/main'"),
        ("audit_chain", "", None, None, "-"),
    ],
)
def test_where_reads_as_words(object_type, object_id, pipeline, environment, words):
    where = alert(object_type, object_id, pipeline, environment).where
    assert where == words
    assert not where.strip("#-").isdigit()
