"""The registry through its service, on SQLite and PostgreSQL: lineage, safety, atomicity, determinism."""

from __future__ import annotations

import pickle
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from core.adapters.artifacts import LocalArtifactStore
from core.adapters.db.models import PipelineRow, PipelineVersionRow, ReferenceProfileRow
from core.errors import IntegrityError, InvalidInput, NotFound, PermissionDenied
from core.services.uow import UnitOfWork
from core.steward import Steward
from testkit import REPO_ROOT, add_user, make_settings, sign_in

SPECS = REPO_ROOT / "sample_data" / "specs"
CREDIT_SPEC = (SPECS / "credit_default.toml").read_text()


class WritesMarker:
    """Unpickling this runs code: it creates the marker file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


def place_credit_sample(data_dir: Path, rows: int = 1500) -> None:
    target = data_dir / "datasets" / "credit"
    target.mkdir(parents=True, exist_ok=True)
    frame = pd.read_csv(REPO_ROOT / "sample_data" / "credit" / "train.csv", nrows=rows)
    frame.to_csv(target / "train.csv", index=False)


def counts(steward: Steward) -> tuple[int, int, int]:
    with UnitOfWork(steward.ctx, write=False) as uow:
        return tuple(  # type: ignore[return-value]
            int(uow.session.scalar(select(func.count()).select_from(table)) or 0)
            for table in (PipelineRow, PipelineVersionRow, ReferenceProfileRow)
        )


def artifact_files(steward: Steward) -> list[Path]:
    root = steward.settings.resolved_artifact_root
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


@pytest.fixture
def dana(steward: Steward):
    place_credit_sample(steward.settings.data_dir)
    add_user(steward, "dana", "data_scientist")
    return sign_in(steward, "dana")


def test_register_train_records_lineage_metrics_and_a_reference_profile(steward, dana):
    pipeline = steward.pipelines.register(dana, CREDIT_SPEC)
    version = steward.pipelines.train(dana, pipeline.name, importances=False)
    assert (version.number, version.trained_by, version.origin) == (1, "dana", "trained")
    assert set(version.metrics) == {"accuracy", "roc_auc", "f1", "log_loss"}
    lineage = version.lineage
    assert lineage["data_rows"] == 1500 and lineage["data_digest"] == version.data_digest
    assert lineage["split"]["seed"] == 2026 and lineage["split"]["holdout_rows"] == 300
    assert {"scikit-learn", "numpy"} <= set(lineage["library_versions"])
    assert lineage["spec_digest"] == version.spec_digest and lineage["source"]
    profile = steward.pipelines.reference_profile(version.id)
    assert profile.rows == 1500 and profile.column("prediction") is not None and profile.column("LIMIT_BAL")
    frame = pd.read_csv(steward.settings.data_dir / "datasets/credit/train.csv").head(3)
    scores = steward.pipelines.score(version, frame)
    assert list(scores.columns) == ["prediction", "label"] and scores["prediction"].between(0, 1).all()
    with pytest.raises(InvalidInput, match="PAY_AMT3"):
        steward.pipelines.score(version, frame.drop(columns=["PAY_AMT3"]))
    event = steward.audit.recent(1)[0]
    assert (event.action, event.actor, event.object_id) == ("pipeline.train", "dana", "credit-default/v1")
    assert event.after["artifact_sha256"] == version.artifact_sha256


def test_the_same_spec_and_data_give_the_same_digest_and_metrics(steward, dana):
    steward.pipelines.register(dana, CREDIT_SPEC)
    first = steward.pipelines.train(dana, "credit-default", importances=False)
    second = steward.pipelines.train(dana, "credit-default", importances=False)
    assert second.number == 2
    assert first.data_digest == second.data_digest and first.spec_digest == second.spec_digest
    assert first.metrics == second.metrics
    assert first.id != second.id and first.artifact_uri != second.artifact_uri


def test_a_flipped_byte_is_detected_names_the_version_and_raises_an_alarm(steward, dana):
    steward.pipelines.register(dana, CREDIT_SPEC)
    version = steward.pipelines.train(dana, "credit-default", importances=False)
    path = steward.settings.resolved_artifact_root / version.artifact_uri
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="credit-default v1"):
        steward.pipelines.load_model(version)
    alarm = steward.audit.recent(1)[0]
    assert alarm.action == "artifact.integrity_failed" and alarm.object_id == "credit-default/v1"
    assert alarm.after["severity"] == "critical"
    assert steward.pipelines.verify_artifacts(dana) != []


def test_a_crash_between_write_and_rename_leaves_no_artifact_and_no_row(steward, dana, tmp_path, clock):
    steward.pipelines.register(dana, CREDIT_SPEC)
    before = counts(steward)

    def crash(_partial: Path) -> None:
        raise KeyboardInterrupt("power cut")  # not an Exception: nothing may swallow it

    crashing = Steward(
        make_settings(tmp_path, steward.settings.resolved_database_url),
        clock=clock,
        artifact_store=LocalArtifactStore(steward.settings.resolved_artifact_root, before_commit=crash),
    )
    with pytest.raises(KeyboardInterrupt):
        crashing.pipelines.train(dana, "credit-default", importances=False)
    crashing.close()
    assert counts(steward) == before
    assert [p for p in artifact_files(steward) if not p.name.startswith(".partial-")] == []
    assert LocalArtifactStore(steward.settings.resolved_artifact_root).sweep() >= 0
    assert artifact_files(steward) == []


def test_a_failed_insert_discards_the_artifact(steward, dana):
    """If the version row cannot be written, the artifact already written is removed: no orphan."""
    steward.pipelines.register(dana, CREDIT_SPEC)
    with steward.engines.write.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE reference_profiles RENAME TO reference_profiles_gone")
    try:
        with pytest.raises(Exception):  # noqa: B017 - the database error itself
            steward.pipelines.train(dana, "credit-default", importances=False)
    finally:
        with steward.engines.write.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE reference_profiles_gone RENAME TO reference_profiles")
    assert artifact_files(steward) == []
    assert counts(steward)[1] == 0


def test_a_pickle_upload_is_refused_audited_and_never_runs(steward, dana, tmp_path):
    steward.pipelines.register(dana, CREDIT_SPEC)
    marker = tmp_path / "pwned"
    before = counts(steward)
    with pytest.raises(InvalidInput, match=r"model\.pkl"):
        steward.pipelines.import_artifact(
            dana, "credit-default", pickle.dumps(WritesMarker(marker)), filename="model.pkl"
        )
    assert not marker.exists()
    assert counts(steward) == before and artifact_files(steward) == []
    refusal = steward.audit.recent(1)[0]
    assert (
        refusal.action == "pipeline.upload"
        and refusal.outcome.value == "failed"
        and "model.pkl" in refusal.detail
    )


def test_an_upload_over_the_limit_is_refused_before_reading(steward, dana, tmp_path, clock):
    small = Steward(
        make_settings(tmp_path, steward.settings.resolved_database_url, max_upload_bytes=1000), clock=clock
    )
    small.pipelines.register(dana, CREDIT_SPEC)
    with pytest.raises(InvalidInput, match="over the 0 MB limit"):
        small.pipelines.import_artifact(dana, "credit-default", b"PK" + b"\0" * 5000, filename="big.skops")
    small.close()


def test_a_valid_skops_upload_becomes_a_version_evaluated_on_the_hold_out(steward, dana):
    import skops.io

    steward.pipelines.register(dana, CREDIT_SPEC)
    trained = steward.pipelines.train(dana, "credit-default", importances=False)
    data = skops.io.dumps(steward.pipelines.load_model(trained))
    uploaded = steward.pipelines.import_artifact(dana, "credit-default", data, filename="retrained.skops")
    assert uploaded.origin == "uploaded" and uploaded.number == 2
    assert uploaded.metrics == trained.metrics  # same model, same hold-out


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda s: s.replace('estimator = "LogisticRegression"', 'estimator = "EvilRegression"'),
            "EvilRegression",
        ),
        (lambda s: s.replace("C = 0.1", "C = 0.1, exec = 1"), "exec"),
        (lambda s: s.replace('name = "credit-default"', 'name = "../credit"'), "pipeline.name"),
        (lambda s: s.replace('name = "credit-default"', 'name = "<b>credit</b>"'), "pipeline.name"),
        (lambda s: s.replace("holdout = 0.2", "holdout = 2"), "holdout"),
    ],
)
def test_bad_specs_are_refused_naming_the_field_and_nothing_is_registered(steward, dana, mutate, message):
    before = counts(steward)
    with pytest.raises(InvalidInput, match=message.replace(".", r"\.")):
        steward.pipelines.register(dana, mutate(CREDIT_SPEC))
    assert counts(steward) == before


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda f: f.drop(columns=["PAY_AMT3"]), "PAY_AMT3"),
        (lambda f: f.assign(default_next_month=0), "one class"),
        (lambda f: f.assign(AGE=f["AGE"].astype(float).where(f.index != 7, float("nan"))), "AGE"),
        (
            lambda f: f.assign(BILL_AMT1=f["BILL_AMT1"].astype(float).where(f.index != 3, float("inf"))),
            "BILL_AMT1",
        ),
    ],
)
def test_bad_training_data_is_refused_naming_the_column_and_nothing_is_registered(
    steward, dana, damage, message
):
    steward.pipelines.register(dana, CREDIT_SPEC)
    path = steward.settings.data_dir / "datasets" / "credit" / "train.csv"
    damage(pd.read_csv(path)).to_csv(path, index=False)
    before = counts(steward)
    with pytest.raises(InvalidInput, match=message):
        steward.pipelines.train(dana, "credit-default", importances=False)
    assert counts(steward) == before and artifact_files(steward) == []
    assert steward.audit.recent(1)[0].outcome.value == "failed"


def test_only_data_scientists_and_admins_register_or_train(steward, dana):
    add_user(steward, "vera", "viewer")
    vera = sign_in(steward, "vera")
    with pytest.raises(PermissionDenied):
        steward.pipelines.register(vera, CREDIT_SPEC)
    steward.pipelines.register(dana, CREDIT_SPEC)
    with pytest.raises(PermissionDenied):
        steward.pipelines.train(vera, "credit-default")
    with pytest.raises(NotFound):
        steward.pipelines.train(dana, "missing")


def test_a_spec_update_keeps_versions_immutable_and_a_new_target_needs_a_new_name(steward, dana):
    steward.pipelines.register(dana, CREDIT_SPEC)
    v1 = steward.pipelines.train(dana, "credit-default", importances=False)
    v2_spec = (SPECS / "credit_default_v2.toml").read_text()
    updated = steward.pipelines.register(dana, v2_spec)
    assert updated.spec_digest != v1.spec_digest
    assert steward.pipelines.version("credit-default", 1).spec_digest == v1.spec_digest
    assert steward.audit.recent(1)[0].action == "pipeline.spec_update"
    with pytest.raises(InvalidInput, match="needs a new pipeline name"):
        steward.pipelines.register(
            dana, CREDIT_SPEC.replace('target = "default_next_month"', 'target = "ID"')
        )
