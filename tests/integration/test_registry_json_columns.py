"""Migration 0030: the registry's JSON-in-TEXT columns become JSON, existing rows kept, both databases."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import text

from steward.core.adapters.db import migrate
from steward.core.steward import Steward

SPEC = {"pipeline": {"name": "old-one", "task": "classification", "target": "y"}, "schema": {"columns": []}}
SCHEMA = {"columns": [{"name": "AGE", "kind": "integer", "min": 18, "max": 120}]}
LINEAGE = {"estimator": "LogisticRegression", "positive_class": 1, "classes": [0, 1], "split": {"seed": 7}}
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_rows_written_as_text_before_0030_read_back_as_structures_after(steward: Steward) -> None:
    migrate.downgrade(steward.engines, "0016")
    with steward.engines.write.begin() as db:
        db.execute(
            text(
                "INSERT INTO pipelines (name, owner, task, target, description, spec_json, spec_digest, "
                "created_at, created_by, updated_at) VALUES ('old-one', 'risk', 'classification', 'y', '', "
                ":spec, 'sd', :now, 'dana', :now)"
            ),
            {"spec": json.dumps(SPEC), "now": NOW},
        )
        pipeline_id = db.execute(text("SELECT id FROM pipelines WHERE name = 'old-one'")).scalar_one()
        db.execute(
            text(
                "INSERT INTO pipeline_versions (id, pipeline_id, number, origin, status, artifact_uri, "
                "artifact_sha256, artifact_size, spec_json, spec_digest, schema_json, data_digest, data_rows, "
                "metrics_json, lineage_json, charts_json, warnings_json, trained_by, trained_at) VALUES "
                "('v-old', :pid, 1, 'trained', 'ready', 'file:x', :sha, 1, :spec, 'sd', :schema, 'dd', 10, "
                ":metrics, :lineage, '{}', :warnings, 'dana', :now)"
            ),
            {
                "pid": pipeline_id,
                "sha": "a" * 64,
                "spec": json.dumps(SPEC),
                "schema": json.dumps(SCHEMA),
                "metrics": json.dumps({"roc_auc": 0.7, "log_loss": None}),
                "lineage": json.dumps(LINEAGE),
                "warnings": json.dumps(["few rows"]),
                "now": NOW,
            },
        )
    steward.upgrade_database()
    assert migrate.is_up_to_date(steward.engines)

    version = steward.pipelines.version("old-one", 1)
    assert version.spec == SPEC and version.schema == SCHEMA and version.lineage == LINEAGE
    assert version.metrics == {"roc_auc": 0.7, "log_loss": None} and version.warnings == ("few rows",)
    assert version.task == "classification" and version.target == "y" and version.classes == (0, 1)
    assert steward.pipelines.get("old-one").spec == SPEC

    # And back: the downgrade turns the structures into the same JSON text.
    migrate.downgrade(steward.engines, "0016")
    with steward.engines.read.connect() as db:
        stored = db.execute(
            text("SELECT lineage_json FROM pipeline_versions WHERE id = 'v-old'")
        ).scalar_one()
    assert json.loads(stored) == LINEAGE
    steward.upgrade_database()
