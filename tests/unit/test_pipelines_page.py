"""What the Pipelines page shows, decided in core: links to a version's card, the version selector."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from steward.core.domain.pipelines_page import (
    card_url,
    parse_version,
    same_data_note,
    training_hint,
    version_choices,
)
from steward.core.domain.registry import PipelineVersion


def version(number: int, *, digest: str = "d" * 64, spec_digest: str = "s" * 64) -> PipelineVersion:
    return PipelineVersion(
        id=f"v{number}", pipeline_id=1, pipeline_name="credit-default", number=number, origin="trained",
        status="ready", artifact_uri="", artifact_sha256="a" * 64, artifact_size=1, spec={},
        spec_digest=spec_digest, schema={}, data_digest=digest, data_rows=10, metrics={}, lineage={},
        charts={}, warnings=(), trained_by="dana", trained_at=datetime(2026, 12, 1, tzinfo=UTC),
    )  # fmt: skip


def test_a_card_link_names_the_pipeline_and_version_and_survives_odd_names() -> None:
    assert card_url("credit-default", 2) == "/pipelines?pipeline=credit-default&version=2"
    assert card_url("credit-default") == "/pipelines?pipeline=credit-default"
    odd = urlsplit(card_url("a&b=c d", 3))
    assert odd.path == "/pipelines" and parse_qs(odd.query) == {"pipeline": ["a&b=c d"], "version": ["3"]}


@pytest.mark.parametrize(
    ("given", "number"),
    [(2, 2), ("2", 2), ("v2", 2), (" V7 ", 7), ("0", None), (-1, None), ("two", None), (None, None),
     (True, None), ("", None), ("2.5", None)],
)  # fmt: skip
def test_a_version_is_read_from_a_link_or_a_selector(given: object, number: int | None) -> None:
    assert parse_version(given) == number


def test_the_selector_says_latest_where_it_serves_and_where_it_awaits_sign_off() -> None:
    choices = version_choices([version(1), version(2), version(3)], {2: ("Dev", "Test")}, {2: ("Prod",)})
    assert [c.number for c in choices] == [3, 2, 1]
    assert choices[0].label == "v3 · latest · trained 2026-12-01 by dana"
    assert choices[1].label == (
        "v2 · deployed in Dev, Test · awaiting sign-off for Prod · trained 2026-12-01 by dana"
    )


def test_training_hints_and_the_data_note() -> None:
    assert "Trains the registered spec" in training_hint(None, "x")
    assert "spec changed since v1" in training_hint(version(1), "other")
    assert "reproducibility" in training_hint(version(1), "s" * 64)
    assert "compare directly" in same_data_note([version(1), version(2)])
    assert "compare with care" in same_data_note([version(1), version(2, digest="e" * 64)])
