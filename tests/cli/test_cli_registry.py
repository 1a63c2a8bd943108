"""The registry from a terminal, in process: register, train, list, versions, verify, import and retrain.

Training data comes from a file under the data folder or from a query on a
configured source database (an SQLite file the test writes). Every refusal is
one line on stderr with exit status 2, and leaves nothing registered.
"""

from __future__ import annotations

import json
import os
import pickle
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner, Result

from steward.app.cli import main
from steward.core.steward import Steward
from testkit import TEST_SCRYPT_N

PASSWORD = "a-long-enough-password\n"

SPEC = """
spec_version = 1

[pipeline]
name = "{name}"
owner = "tests"
task = "classification"
target = "y"

[source]
{source}

[training]
seed = 7
holdout = 0.25

[schema]
columns = [
  {{ name = "amount", kind = "numeric", min = 0 }},
  {{ name = "colour", kind = "categorical", categories = ["red", "green", "blue"] }},
]

[model]
estimator = "LogisticRegression"
params = {{ C = 1.0, max_iter = 500 }}

[[preprocess]]
name = "numbers"
columns = ["amount"]
steps = ["StandardScaler"]

[[preprocess]]
name = "codes"
columns = ["colour"]
steps = ["OneHotEncoder"]
"""
FILE_SOURCE = 'type = "file"\npath = "toy/train.csv"'
SQL_SOURCE = (
    'type = "sql"\ndatabase = "warehouse"\nquery = "SELECT amount, colour, y FROM clients WHERE batch = 1"'
)


class WritesMarker:
    """Unpickling this runs code: it creates the marker file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[Path]]:
        return (Path.touch, (self.path,))


def toy_frame(rows: int = 240, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    amount = rng.gamma(2.0, 100.0, size=rows)
    colour = rng.choice(["red", "green", "blue"], size=rows)
    y = (0.01 * (amount - 200) + 0.8 * (colour == "red") + rng.normal(scale=0.7, size=rows) > 0).astype(int)
    return pd.DataFrame({"amount": amount, "colour": colour, "y": y})


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A migrated data folder with the toy training file, a warehouse database and a spec file per source."""
    for key in list(os.environ):
        if key.startswith("STEWARD_"):
            monkeypatch.delenv(key)
    data = tmp_path / "data"
    warehouse = tmp_path / "warehouse.db"
    with sqlite3.connect(warehouse) as connection:
        toy_frame(seed=1).assign(batch=1).to_sql("clients", connection, index=False)
    monkeypatch.setenv("STEWARD_DATA_DIR", str(data))
    monkeypatch.setenv("STEWARD_SCRYPT_N", str(TEST_SCRYPT_N))
    monkeypatch.setenv("STEWARD_SOURCE_DATABASES", json.dumps({"warehouse": f"sqlite:///{warehouse}"}))
    assert run("db", "upgrade").exit_code == 0
    (data / "datasets" / "toy").mkdir(parents=True)
    toy_frame().to_csv(data / "datasets" / "toy" / "train.csv", index=False)
    (tmp_path / "toy.toml").write_text(SPEC.format(name="toy", source=FILE_SOURCE))
    (tmp_path / "toy-sql.toml").write_text(SPEC.format(name="toy-sql", source=SQL_SOURCE))
    yield tmp_path


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def ok(*args: str) -> str:
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result.stdout


def refused(result: Result, message: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output


def pipeline_names() -> list[str]:
    steward = Steward.open()
    try:
        return [overview.pipeline.name for overview in steward.pipelines.list()]
    finally:
        steward.close()


def version_count(name: str) -> int:
    steward = Steward.open()
    try:
        return len(steward.pipelines.versions(name))
    finally:
        steward.close()


def add_user(name: str, role: str) -> None:
    result = run("users", "add", name, "--role", role, "--password-stdin", input=PASSWORD)
    assert result.exit_code == 0, result.output


def test_help_lists_the_registry_commands() -> None:
    top = run("--help").output
    assert all(f"  {command} " in top for command in ("pipelines", "train", "retrain", "datasets"))
    sub = run("pipelines", "--help").output
    assert all(f"  {command} " in sub for command in ("register", "list", "versions", "verify", "import"))


def test_register_train_list_versions_and_verify_from_a_file_and_from_a_database(env: Path) -> None:
    assert ok("pipelines", "register", str(env / "toy.toml")).startswith(
        "registered toy (classification, predicts y); spec "
    )
    assert ok("pipelines", "register", str(env / "toy-sql.toml")).startswith("registered toy-sql ")
    assert "toy-sql                      classification  no versions  -" in ok("pipelines", "list")

    trained = ok("train", "toy", "--no-importances")
    assert trained.startswith("trained toy v1 on 240 rows: accuracy ")
    from_sql = ok("train", "toy-sql", "--no-importances")
    assert from_sql.startswith("trained toy-sql v1 on 240 rows: ")

    steward = Steward.open()
    try:
        (file_version,) = steward.pipelines.versions("toy")
        (sql_version,) = steward.pipelines.versions("toy-sql")
    finally:
        steward.close()
    assert file_version.lineage["source"] == "file:toy/train.csv"
    assert sql_version.lineage["source"].startswith("sql:warehouse:query-sha256=")
    assert "sqlite" not in json.dumps(sql_version.lineage)  # the URL stays in the settings
    assert sql_version.data_digest != file_version.data_digest  # different rows, different digest

    listing = ok("pipelines", "list").splitlines()
    assert [line.split()[:3] for line in listing] == [
        ["toy", "classification", "v1"],
        ["toy-sql", "classification", "v1"],
    ]
    assert all("roc_auc 0." in line for line in listing)
    versions = ok("pipelines", "versions", "toy-sql")
    assert versions.startswith("v1 ") and f"data {sql_version.data_digest[:12]}" in versions
    assert f"artifact {sql_version.artifact_sha256[:12]}" in versions and "roc_auc" in versions

    assert ok("pipelines", "verify") == "every artifact matches its registered digest\n"
    artifact = Path(os.environ["STEWARD_DATA_DIR"]) / "artifacts" / sql_version.artifact_uri
    data = bytearray(artifact.read_bytes())
    data[len(data) // 2] ^= 0x01
    artifact.write_bytes(bytes(data))
    broken = run("pipelines", "verify")
    assert broken.exit_code == 1 and broken.stdout.startswith("MISMATCH toy-sql v1: ")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda s: s.replace('"LogisticRegression"', '"EvilRegression"'),
            "unknown estimator 'EvilRegression'",
        ),
        (
            lambda s: s.replace('name = "toy"', 'name = "../toy"'),
            "pipeline.name must not contain path separators",
        ),
        (lambda s: s.replace('name = "toy"', 'name = "<b>toy</b>"'), "pipeline.name must not contain markup"),
        (lambda s: s.replace("C = 1.0", "C = 1.0, exec = 1"), "unknown parameter 'exec'"),
        (lambda s: s.replace("holdout = 0.25", "holdout = 2"), "holdout"),
        (lambda s: s.replace("[schema]", "[schema"), "TOML"),
    ],
    ids=["unknown-estimator", "path-separator", "markup", "unknown-parameter", "bad-holdout", "broken-toml"],
)
def test_a_bad_spec_is_refused_in_one_line_and_nothing_is_registered(env: Path, mutate, message: str) -> None:
    spec = env / "bad.toml"
    spec.write_text(mutate(SPEC.format(name="toy", source=FILE_SOURCE)))
    refused(run("pipelines", "register", str(spec)), message)
    assert pipeline_names() == []


def test_a_source_database_that_is_not_configured_or_a_query_that_fails_is_one_line(env: Path) -> None:
    other = env / "other.toml"
    other.write_text(SPEC.format(name="toy-other", source=SQL_SOURCE.replace("warehouse", "lake")))
    ok("pipelines", "register", str(other))
    refused(
        run("train", "toy-other"),
        "source.database 'lake' is not a configured database (configured: warehouse)",
    )
    broken = env / "broken.toml"
    broken.write_text(SPEC.format(name="toy-broken", source=SQL_SOURCE.replace("clients", "no_such_table")))
    ok("pipelines", "register", str(broken))
    failed = run("train", "toy-broken")
    refused(failed, "source query on 'warehouse' failed: ")
    assert "no such table: no_such_table" in failed.stderr
    write = env / "write.toml"
    write.write_text(SPEC.format(name="toy-write", source=SQL_SOURCE.replace("SELECT", "DELETE")))
    refused(run("pipelines", "register", str(write)), "single SELECT")
    assert version_count("toy-other") == version_count("toy-broken") == 0


def test_a_spec_file_that_does_not_exist_and_unknown_pipelines_are_one_line(env: Path) -> None:
    missing = run("pipelines", "register", str(env / "nope.toml"))
    assert missing.exit_code == 2 and "does not exist" in missing.stderr and "Traceback" not in missing.output
    refused(run("train", "nope"), "no pipeline named 'nope'")
    refused(run("pipelines", "versions", "nope"), "no pipeline named 'nope'")


def test_acting_as_a_viewer_registers_nothing(env: Path) -> None:
    add_user("vera", "viewer")
    refused(
        run("pipelines", "register", str(env / "toy.toml"), "--as", "vera"),
        "vera may not register a pipeline",
    )
    assert pipeline_names() == []


def test_import_refuses_a_sparse_2_gb_file_by_its_size_and_a_pickle_by_its_bytes(env: Path) -> None:
    ok("pipelines", "register", str(env / "toy.toml"))
    huge = env / "huge.skops"
    with huge.open("wb") as handle:  # sparse: 2 GB on paper, nothing on disk
        handle.truncate(2_000_000_000)
    refused(
        run("pipelines", "import", "toy", str(huge)),
        "huge.skops is 2,000,000,000 bytes (2.0 GB); the limit is 1,073,741,824 bytes (1.1 GB)",
    )
    marker = env / "pwned"
    disguised = env / "model.skops"
    disguised.write_bytes(pickle.dumps(WritesMarker(marker)))  # a pickle under a skops name
    refused(run("pipelines", "import", "toy", str(disguised)), "model.skops is a Python pickle")
    assert not marker.exists() and version_count("toy") == 0


def test_import_registers_a_skops_file_as_a_new_version(env: Path) -> None:
    import skops.io

    ok("pipelines", "register", str(env / "toy.toml"))
    ok("train", "toy", "--no-importances")
    steward = Steward.open()
    try:
        model = steward.pipelines.load_model(steward.pipelines.version("toy", 1))
    finally:
        steward.close()
    saved = env / "refit.skops"
    saved.write_bytes(skops.io.dumps(model))
    assert ok("pipelines", "import", "toy", str(saved)).startswith(
        "registered refit.skops as toy v2: accuracy "
    )


def test_retrain_on_production_data_from_the_cli(env: Path) -> None:
    ok("pipelines", "register", str(env / "toy.toml"))
    ok("train", "toy", "--no-importances")
    datasets = Path(os.environ["STEWARD_DATA_DIR"]) / "datasets"
    toy_frame(rows=200, seed=5).to_csv(datasets / "toy" / "prod.csv", index=False)
    toy_frame(rows=200, seed=6).drop(columns=["y"]).to_csv(datasets / "toy" / "unlabelled.csv", index=False)
    for name in ("prod", "unlabelled"):
        registered = ok("datasets", "register", f"toy/{name}", f"toy/{name}.csv", "--role", "production")
        assert registered.startswith(f"registered toy/{name} (Prod's production, 200 rows, ")
    assert "toy/prod" in ok("datasets", "list")
    add_user("dana", "data_scientist")
    add_user("otto", "operator")

    refused(
        run("retrain", "toy", "--environment", "Prod", "--dataset", "toy/prod", "--as", "dana"),
        "dana may not retrain on production data toy from Prod in prod",
    )
    refused(
        run("retrain", "toy", "--environment", "Prod", "--dataset", "toy/unlabelled", "--as", "otto"),
        "has no target column 'y': its labels have not arrived",
    )
    refused(
        run("retrain", "toy", "--environment", "Moon", "--dataset", "toy/prod"), "no environment named 'Moon'"
    )
    assert version_count("toy") == 1
    done = ok(
        "retrain", "toy", "--environment", "Prod", "--dataset", "toy/prod", "--as", "otto", "--no-importances"
    )
    assert done.startswith("retrained toy v2 on 200 rows of toy/prod from Prod: accuracy ")
    steward = Steward.open()
    try:
        version = steward.pipelines.version("toy", 2)
    finally:
        steward.close()
    assert version.origin == "retrained" and version.trained_by == "otto"
    assert version.lineage["retrained_from"]["dataset"] == "toy/prod"


def test_compare_a_retrained_challenger_with_what_serves_from_the_cli(env: Path) -> None:
    ok("pipelines", "register", str(env / "toy.toml"))
    ok("train", "toy", "--no-importances")
    steward = Steward.open()
    try:
        from steward.core.domain.accounts import Actor

        steward.promotions.request(
            Actor.system_actor("test"), "toy", 1, "Dev", "champion"
        )  # Dev deploys itself
    finally:
        steward.close()
    datasets = Path(os.environ["STEWARD_DATA_DIR"]) / "datasets"
    toy_frame(rows=400, seed=8).to_csv(datasets / "toy" / "fresh.csv", index=False)
    ok("datasets", "register", "toy/fresh", "toy/fresh.csv", "--role", "production", "--environment", "Dev")
    add_user("otto", "operator")
    add_user("vera", "viewer")
    ok("retrain", "toy", "--dataset", "toy/fresh", "--as", "otto", "--no-importances")

    refused(run("compare", "toy", "2", "Dev", "--dataset", "toy/fresh", "--as", "vera"), "vera may not")
    refused(run("compare", "toy", "1", "Dev", "--dataset", "toy/fresh"), "toy v1 is what serves in Dev")
    shown = ok("compare", "toy", "2", "Dev", "--dataset", "toy/fresh", "--as", "otto", "--resamples", "150")
    first, *rest = shown.splitlines()
    assert first.startswith("comparison #1: toy v2 against v1 in Dev on the same 100 rows of toy/fresh")
    assert "the challenger's hold-out" in first
    assert any(line.strip().startswith("accuracy:") and "McNemar" in line for line in rest)
    assert any("answers change" in line for line in rest)
