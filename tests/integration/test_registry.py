"""The registry through its service, on SQLite and PostgreSQL: lineage, safety, atomicity, determinism."""

from __future__ import annotations

import io
import os
import pickle
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from steward.core.adapters.artifacts import LocalArtifactStore
from steward.core.adapters.db.models import PipelineRow, PipelineVersionRow, ReferenceProfileRow
from steward.core.domain.accounts import Actor
from steward.core.domain.permissions import Action, is_allowed
from steward.core.domain.roles import Role
from steward.core.errors import IntegrityError, InvalidInput, NotFound, PermissionDenied
from steward.core.services.uow import UnitOfWork
from steward.core.steward import Steward
from testkit import REPO_ROOT, add_user, make_settings, sign_in

SPECS = REPO_ROOT / "steward" / "sample_data" / "specs"
CREDIT_SPEC = (SPECS / "credit_default.toml").read_text()
BIKE_SPEC = (SPECS / "bike_demand.toml").read_text()


class WritesMarker:
    """Unpickling this runs code: it creates the marker file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


def place_credit_sample(data_dir: Path, rows: int = 1500) -> None:
    target = data_dir / "datasets" / "credit"
    target.mkdir(parents=True, exist_ok=True)
    frame = pd.read_csv(REPO_ROOT / "steward" / "sample_data" / "credit" / "train.csv", nrows=rows)
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
    alarm = next(e for e in steward.audit.recent(5) if e.action != "alert.open")
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
    store = LocalArtifactStore(steward.settings.resolved_artifact_root)
    assert store.sweep(older_than=timedelta(0), now=datetime.now(UTC) + timedelta(seconds=1)).kept == ()
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


def test_an_upload_over_the_limit_is_refused_stating_the_limit_exactly(steward, dana, tmp_path, clock):
    small = Steward(
        make_settings(tmp_path, steward.settings.resolved_database_url, max_upload_bytes=1000), clock=clock
    )
    small.pipelines.register(dana, CREDIT_SPEC)
    before = counts(small)
    with pytest.raises(
        InvalidInput, match=r"^big.skops is 5,002 bytes \(5.0 kB\); the limit is 1,000 bytes \(1.0 kB\)$"
    ):
        small.pipelines.import_artifact(dana, "credit-default", b"PK" + b"\0" * 5000, filename="big.skops")
    assert counts(small) == before
    refusal = small.audit.recent(1)[0]
    assert (refusal.action, refusal.outcome.value) == ("pipeline.upload", "failed")
    assert "the limit is 1,000 bytes" in refusal.detail
    small.close()


class NeverRead(io.BytesIO):
    """An open upload (as Streamlit hands them over) that fails the test if it is read."""

    def __init__(self, size: int) -> None:
        super().__init__(b"")
        self.size = size

    def read(self, *_args: object) -> bytes:
        raise AssertionError("the upload was read before its size was checked")


def test_a_sparse_2_gb_file_is_refused_by_its_size_without_being_read(steward, dana, tmp_path):
    """The path the CLI import takes (and an open upload, the page's): sized first, never read whole."""
    steward.pipelines.register(dana, CREDIT_SPEC)
    huge = tmp_path / "huge.skops"
    with huge.open("wb") as handle:  # sparse: 2 GB on paper, nothing on disk
        handle.truncate(2_000_000_000)
    before = counts(steward)
    limit = r"the limit is 1,073,741,824 bytes \(1.1 GB\)"
    with pytest.raises(InvalidInput, match=rf"^huge.skops is 2,000,000,000 bytes \(2.0 GB\); {limit}$"):
        steward.pipelines.import_artifact(dana, "credit-default", huge, filename="huge.skops")
    with pytest.raises(InvalidInput, match=limit):
        steward.pipelines.import_artifact(
            dana, "credit-default", NeverRead(2_000_000_000), filename="up.skops"
        )
    assert counts(steward) == before and artifact_files(steward) == []
    assert [e.action for e in steward.audit.recent(2)] == ["pipeline.upload", "pipeline.upload"]


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


# ---- retraining on production data -------------------------------------------------------------


def place_production(
    steward: Steward, name: str = "credit/prod-labelled", rows: int = 600, damage=None, environment=None
):
    """Production rows whose labels have arrived, registered as a production data set."""
    frame = pd.read_csv(
        REPO_ROOT / "steward" / "sample_data" / "credit" / "train.csv", skiprows=range(1, 5001), nrows=rows
    )
    if damage is not None:
        frame = damage(frame)
    relative = f"{name}.csv"
    path = steward.datasets.resolve(relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return steward.datasets.register(
        Actor.system_actor("test"), name, relative, role="production", environment=environment
    )


@pytest.fixture
def otto(steward: Steward):
    add_user(steward, "otto", "operator")
    return sign_in(steward, "otto")


def test_retraining_on_production_data_records_where_the_data_came_from(steward, dana, otto):
    steward.pipelines.register(dana, CREDIT_SPEC)
    trained = steward.pipelines.train(dana, "credit-default", importances=False)
    production = place_production(steward)
    prod = steward.environments.get("Prod")
    version = steward.pipelines.retrain(
        otto, "credit-default", environment="Prod", dataset=production.name, importances=False
    )
    assert (version.number, version.origin, version.trained_by) == (2, "retrained", "otto")
    assert version.data_rows == 600 and version.data_digest != trained.data_digest
    assert version.spec_digest == trained.spec_digest and set(version.metrics) == set(trained.metrics)
    lineage = version.lineage
    assert lineage["retrained_from"] == {
        "environment": "Prod",
        "environment_id": prod.id,
        "dataset": "credit/prod-labelled",
        "dataset_sha256": production.sha256,
        "dataset_rows": 600,
    }
    assert lineage["source"] == "file:credit/prod-labelled.csv"  # beside the usual lineage
    assert lineage["data_digest"] == version.data_digest and lineage["split"]["holdout_rows"] == 120
    assert steward.pipelines.reference_profile(version.id).rows == 600
    assert steward.pipelines.load_model(version) is not None
    event = steward.audit.recent(1)[0]
    assert (event.action, event.actor, event.object_id) == ("pipeline.retrain", "otto", "credit-default/v2")
    assert event.after["retrained_from"]["dataset_sha256"] == production.sha256
    assert event.after["origin"] == "retrained" and event.after["artifact_sha256"] == version.artifact_sha256
    assert steward.pipelines.version("credit-default", 1) == trained  # versions are immutable


@pytest.mark.parametrize("environment", ["Dev", "Test", "Prod"])
def test_who_may_retrain_is_exactly_the_matrix_at_the_environments_tier(steward, environment):
    """Every role in every tier; the call names a missing data set, so an allowed call fails after the check."""
    steward.pipelines.register(Actor.system_actor("test"), CREDIT_SPEC)
    tier = steward.environments.get(environment).tier
    for role in Role:
        username = f"{role.value.replace('_', '-')}-{environment.lower()}"
        add_user(steward, username, role.value)
        actor = sign_in(steward, username)
        if is_allowed({role}, Action.RETRAIN, tier):
            with pytest.raises(NotFound, match="no data set named 'missing'"):
                steward.pipelines.retrain(actor, "credit-default", environment=environment, dataset="missing")
            event = steward.audit.recent(1)[0]
            assert (event.action, event.outcome.value) == ("pipeline.retrain", "failed"), role
        else:
            with pytest.raises(
                PermissionDenied, match=f"may not retrain on production data.* in {tier.value}"
            ):
                steward.pipelines.retrain(actor, "credit-default", environment=environment, dataset="missing")
            event = steward.audit.recent(1)[0]
            assert (event.action, event.actor) == ("permission.denied", username), role
            assert "pipeline.retrain" in event.detail
    assert counts(steward)[1] == 0


def test_a_data_scientist_cannot_train_on_prod_data_by_naming_another_environment(steward, dana):
    """Data sets belong to an environment; its tier decides, whatever environment the caller names."""
    steward.pipelines.register(dana, CREDIT_SPEC)
    production = place_production(steward)  # registered without one: the highest environment's data
    assert production.environment == "Prod"
    with pytest.raises(
        PermissionDenied, match="dana may not retrain on production data credit-default from Prod"
    ):
        steward.pipelines.retrain(dana, "credit-default", dataset=production.name)
    with pytest.raises(InvalidInput, match="is Prod's production data: retraining on it is checked at Prod"):
        steward.pipelines.retrain(dana, "credit-default", environment="Dev", dataset=production.name)
    refusal = steward.audit.recent(1)[0]
    assert (refusal.action, refusal.outcome.value, refusal.actor) == ("pipeline.retrain", "failed", "dana")
    # The same bytes cannot be registered again as Dev data.
    with pytest.raises(InvalidInput, match="already Prod's data set 'credit/prod-labelled'"):
        steward.datasets.register(
            dana, "credit/copy", f"{production.name}.csv", role="production", environment="Dev"
        )
    assert steward.audit.recent(1)[0].action == "dataset.register"
    assert counts(steward)[1] == 0

    dev_rows = place_production(steward, name="credit/dev-sample", rows=500, environment="Dev")
    version = steward.pipelines.retrain(dana, "credit-default", dataset=dev_rows.name, importances=False)
    assert version.lineage["retrained_from"]["environment"] == "Dev"


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda f: f.drop(columns=["default_next_month"]), "labels have not arrived"),
        (
            lambda f: f.assign(default_next_month=f["default_next_month"].where(f.index > 9)),
            "target 'default_next_month' has 10 missing values",
        ),
        (lambda f: f.drop(columns=["PAY_AMT3"]), "lacks the schema column 'PAY_AMT3'"),
        (lambda f: f.assign(default_next_month=0), "one class"),
        (lambda f: f.assign(AGE=f["AGE"].astype(float).where(f.index != 7, float("nan"))), "AGE"),
    ],
    ids=["no-labels-yet", "some-labels-missing", "missing-column", "one-class", "nan-in-age"],
)
def test_bad_production_data_is_refused_naming_the_column_audited_and_nothing_registered(
    steward, dana, otto, damage, message
):
    steward.pipelines.register(dana, CREDIT_SPEC)
    production = place_production(steward, damage=damage)
    before = counts(steward)
    with pytest.raises(InvalidInput, match=message):
        steward.pipelines.retrain(otto, "credit-default", environment="Prod", dataset=production.name)
    assert counts(steward) == before and artifact_files(steward) == []
    failure = steward.audit.recent(1)[0]
    assert (failure.action, failure.outcome.value, failure.actor) == ("pipeline.retrain", "failed", "otto")
    assert message.split("'")[0] in failure.detail


def test_only_a_production_data_set_unchanged_since_registration_is_used(steward, dana, otto):
    steward.pipelines.register(dana, CREDIT_SPEC)
    training = steward.datasets.register(
        Actor.system_actor("test"), "credit/train", "credit/train.csv", role="training"
    )
    with pytest.raises(InvalidInput, match="is a training data set; retraining takes a production one"):
        steward.pipelines.retrain(otto, "credit-default", environment="Prod", dataset=training.name)
    production = place_production(steward)
    path = steward.datasets.resolve(production.path)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join([*lines, lines[-1]]))  # a row added after it was registered
    with pytest.raises(IntegrityError, match="changed since it was registered"):
        steward.pipelines.retrain(otto, "credit-default", environment="Prod", dataset=production.name)
    with pytest.raises(NotFound, match="no environment named 'Moon'"):
        steward.pipelines.retrain(otto, "credit-default", environment="Moon", dataset=production.name)
    assert counts(steward)[1] == 0


# ---- leftover temporary files ------------------------------------------------------------------


def test_sweeping_removes_old_temporary_files_only(steward, dana, clock):
    steward.pipelines.register(dana, CREDIT_SPEC)
    version = steward.pipelines.train(dana, "credit-default", importances=False)
    committed = steward.settings.resolved_artifact_root / version.artifact_uri
    folder = committed.parent
    old, fresh = folder / ".partial-crashed.skops", folder / ".partial-inflight.skops"
    for path, age in (
        (old, timedelta(hours=3)),
        (fresh, timedelta(minutes=2)),
        (committed, timedelta(days=30)),
    ):
        if not path.exists():
            path.write_bytes(b"PK half written")
        stamp = (clock.now() - age).timestamp()
        os.utime(path, (stamp, stamp))
    worker = Actor.system_actor("worker")
    summary = steward.pipelines.sweep_temporary_artifacts(worker)
    assert summary == (
        "removed 1 temporary artifact file(s) older than 60 min; kept 1 younger (possibly still being written)"
    )
    assert not old.exists() and fresh.exists()
    assert steward.pipelines.verify_artifacts(worker) == []  # the committed artifact is untouched
    event = steward.audit.recent(1)[0]
    assert (event.action, event.actor) == ("artifact.sweep", "system:worker")
    assert (
        event.after["removed"] == ["credit-default/.partial-crashed.skops"] and event.after["kept_count"] == 1
    )
    seq = event.seq
    assert steward.pipelines.sweep_temporary_artifacts(worker).startswith("removed 0 ")
    assert steward.audit.recent(1)[0].seq == seq  # nothing removed, nothing to record
    with pytest.raises(InvalidInput, match="at least 60 min"):
        steward.pipelines.sweep_temporary_artifacts(worker, older_than=timedelta(minutes=1))
    add_user(steward, "vera", "viewer")
    with pytest.raises(PermissionDenied):
        steward.pipelines.sweep_temporary_artifacts(sign_in(steward, "vera"))
    assert fresh.exists()


def place_bike_2012(steward: Steward, labelled_rows: int) -> None:
    """2012's production rows and the labels that have arrived so far (the first ``labelled_rows``)."""
    system = Actor.system_actor("test")
    production = pd.read_csv(REPO_ROOT / "steward" / "sample_data" / "bike" / "production_2012.csv")
    labels = pd.read_csv(REPO_ROOT / "steward" / "sample_data" / "bike" / "labels_2012.csv").head(
        labelled_rows
    )
    for name, frame, role in (("bike/p2012", production, "production"), ("bike/l2012", labels, "labels")):
        path = steward.datasets.resolve(f"{name}.csv")
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(path, index=False)
        steward.datasets.register(system, name, f"{name}.csv", role=role)


def test_retraining_joins_delayed_labels_on_the_request_id_and_leaves_unlabelled_rows_out(steward, otto):
    steward.pipelines.register(Actor.system_actor("test"), BIKE_SPEC)
    place_bike_2012(steward, labelled_rows=6000)
    version = steward.pipelines.retrain(
        otto,
        "bike-demand",
        environment="Prod",
        dataset="bike/p2012",
        labels="bike/l2012",
        id_column="instant",
        importances=False,
    )
    assert (version.number, version.origin, version.data_rows) == (1, "retrained", 6000)
    retrained_from = version.lineage["retrained_from"]
    assert retrained_from["labels"] == "bike/l2012" and retrained_from["id_column"] == "instant"
    assert (retrained_from["labelled_rows"], retrained_from["unlabelled_rows"]) == (6000, 8734 - 6000)
    assert retrained_from["labels_sha256"] == steward.datasets.get("bike/l2012").sha256

    for kwargs, message in [
        ({"labels": "bike/l2012"}, "needs the id column"),
        ({"labels": "bike/p2012", "id_column": "instant"}, "'bike/p2012' is not a labels data set"),
        ({"labels": "bike/l2012", "id_column": "hr"}, "'bike/l2012' has no column 'hr'"),
        ({}, "its labels have not arrived"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            steward.pipelines.retrain(
                otto, "bike-demand", environment="Prod", dataset="bike/p2012", importances=False, **kwargs
            )
    assert len(steward.pipelines.versions("bike-demand")) == 1, "refusals register nothing"
