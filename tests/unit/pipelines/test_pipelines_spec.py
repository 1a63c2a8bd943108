"""Spec files are parsed strictly: anything unknown or unworkable is refused naming the key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pipelines_testdata import SMALL_SPEC, SPECS

from steward.core.errors import InvalidInput
from steward.core.pipelines.spec import MAX_SPEC_BYTES, PipelineSpec, load_spec, parse_spec


def edited(old: str, new: str, text: str = SMALL_SPEC) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


@pytest.mark.parametrize("name", ["credit_default", "credit_default_v2", "bike_demand"])
def test_the_demo_specs_are_valid(name: str) -> None:
    spec = load_spec(SPECS / f"{name}.toml")
    assert spec.source.kind == "file"
    assert (SPECS.parent / str(spec.source.path)).is_file()


def test_the_two_credit_specs_are_versions_of_one_pipeline_with_one_schema_and_split() -> None:
    first, second = load_spec(SPECS / "credit_default.toml"), load_spec(SPECS / "credit_default_v2.toml")
    assert first.name == second.name == "credit-default"
    assert first.schema == second.schema and first.training == second.training
    assert first.model.estimator != second.model.estimator
    assert first.digest() != second.digest()


def test_the_small_spec_parses_into_frozen_values(small_spec: PipelineSpec) -> None:
    assert small_spec.task == "classification"
    assert small_spec.schema.names == ("amount", "age", "colour", "member")
    assert small_spec.model.params == {"C": 1.0, "max_iter": 500}
    assert small_spec.stratified
    with pytest.raises(AttributeError):
        small_spec.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        small_spec.model.params["C"] = 5  # type: ignore[index]


def test_to_dict_round_trips_and_is_json(small_spec: PipelineSpec) -> None:
    data = json.loads(json.dumps(small_spec.to_dict()))
    again = PipelineSpec.from_dict(data)
    assert again == small_spec
    assert again.digest() == small_spec.digest()


def test_the_digest_ignores_layout_but_not_content(small_spec: PipelineSpec) -> None:
    relaid = parse_spec(
        "# a comment\n" + SMALL_SPEC.replace("C = 1.0, max_iter = 500", "max_iter = 500, C = 1")
    )
    assert relaid.digest() == small_spec.digest()
    assert parse_spec(edited("C = 1.0", "C = 2.0")).digest() != small_spec.digest()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'estimator = "LogisticRegression"',
            'estimator = "XGBClassifier"',
            "unknown estimator 'XGBClassifier'",
        ),
        ('estimator = "LogisticRegression"', 'estimator = "os.system"', "unknown estimator 'os.system'"),
        ("C = 1.0", "Cee = 1.0", "model.params: unknown parameter 'Cee' for LogisticRegression"),
        ("C = 1.0", "C = -1.0", "model.params.C: -1.0 is not allowed"),
        ("C = 1.0", 'C = "big"', "model.params.C: 'big' is not allowed"),
        ("max_iter = 500", "max_iter = 5.5", "model.params.max_iter: 5.5 is not allowed"),
        ("max_iter = 500", "max_iter = true", "model.params.max_iter: True is not allowed"),
        (
            'estimator = "LogisticRegression"',
            'estimator = "Ridge"',
            "Ridge is for regression, but the task is classification",
        ),
        ('"StandardScaler"]', '"PowerTransformer"]', "unknown transformer 'PowerTransformer'"),
        (
            'strategy = "median"',
            'strategy = "median", verbose = 1',
            "unknown parameter 'verbose' for SimpleImputer",
        ),
        ('strategy = "median"', 'strategy = "mode"', "strategy: 'mode' is not allowed"),
        (
            'steps = ["OneHotEncoder"]',
            'steps = [{ transformer = "OneHotEncoder", handle_unknown = "error" }]',
            "handle_unknown: 'error' is not allowed",
        ),
        ("seed = 7", "sed = 7", "spec: unknown key training.sed"),
        ('target = "y"', 'target = "y"\ncolour = "red"', "spec: unknown key pipeline.colour"),
        ('owner = "tests"\n', "", "spec: missing key pipeline.owner"),
        ('name = "toy"', 'name = "../toy"', "pipeline.name must not contain path separators"),
        ('name = "toy"', 'name = "<b>toy</b>"', "pipeline.name must not contain markup"),
        ('task = "classification"', 'task = "clustering"', "pipeline.task 'clustering' is not one of"),
        ('target = "y"', 'target = "amount"', "pipeline.target 'amount' must not be a schema column"),
        ('path = "toy.csv"', 'path = "../secrets.csv"', "source.path '../secrets.csv' must not contain '..'"),
        ('path = "toy.csv"', 'path = "/etc/passwd.csv"', "must be relative to the data folder"),
        ('path = "toy.csv"', 'path = "toy.pkl"', "must end in .csv or .parquet"),
        ("holdout = 0.25", "holdout = 0.9", "training.holdout 0.9 must be above 0 and at most 0.5"),
        ("spec_version = 1", "spec_version = 2", "spec_version 2 is not supported"),
        (
            'columns = ["colour"]',
            'columns = ["colour", "amount"]',
            "column 'amount' is already in group 'numbers'",
        ),
        ('columns = ["colour"]', 'columns = ["colour", "ghost"]', "column 'ghost' is not in the schema"),
        ('columns = ["colour"]', "columns = []", "columns must not be empty"),
        ('name = "codes"', 'name = "numbers"', "group 'numbers' is defined twice"),
        ('name = "codes"', 'name = "a__b"', "must be 1-40 letters"),
        (
            'steps = ["OneHotEncoder"]',
            'steps = ["StandardScaler"]',
            "column 'colour' is categorical and needs a OneHotEncoder",
        ),
        ('steps = ["OneHotEncoder"]', 'steps = ["passthrough"]', "column 'colour' is categorical"),
        ('steps = ["OneHotEncoder"]', 'steps = ["OneHotEncoder", "drop"]', "'drop' must be the only step"),
        (
            'steps = [{ transformer = "SimpleImputer", strategy = "median" }, "StandardScaler"]',
            'steps = ["StandardScaler"]',
            "column 'age' may be missing and LogisticRegression does not accept missing values",
        ),
        (
            'steps = [{ transformer = "SimpleImputer", strategy = "median" }, "StandardScaler"]',
            'steps = [{ transformer = "SimpleImputer", strategy = "constant", fill_value = "zero" }]',
            "fill_value must be a number for column 'amount'",
        ),
        ('columns = ["colour"]\n', 'columns = ["colour"]\n', None),
    ],
)
def test_bad_specs_are_refused_naming_the_key(old: str, new: str, message: str | None) -> None:
    text = edited(old, new)
    if message is None:
        parse_spec(text)
        return
    with pytest.raises(InvalidInput) as caught:
        parse_spec(text)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_schema_column_in_no_group_must_be_dropped_explicitly() -> None:
    text = edited('columns = ["amount", "age", "member"]', 'columns = ["amount", "age"]')
    with pytest.raises(InvalidInput, match="schema column 'member' is in no \\[\\[preprocess\\]\\] group"):
        parse_spec(text)
    parse_spec(text + '\n[[preprocess]]\nname = "unused"\ncolumns = ["member"]\nsteps = ["drop"]\n')


def test_estimators_that_accept_missing_values_need_no_imputer() -> None:
    text = edited('estimator = "LogisticRegression"', 'estimator = "HistGradientBoostingClassifier"')
    text = edited("params = { C = 1.0, max_iter = 500 }", "params = { max_iter = 20 }", text)
    text = edited(
        'steps = [{ transformer = "SimpleImputer", strategy = "median" }, "StandardScaler"]',
        'steps = ["passthrough"]',
        text,
    )
    assert parse_spec(text).model.estimator == "HistGradientBoostingClassifier"


def test_invalid_toml_is_refused_with_position() -> None:
    with pytest.raises(InvalidInput, match=r"spec is not valid TOML: .*line 2"):
        parse_spec("spec_version = 1\n[pipeline\n")


def test_oversized_specs_are_refused_before_parsing(tmp_path: Path) -> None:
    big = tmp_path / "big.toml"
    big.write_bytes(b"#" * (MAX_SPEC_BYTES + 1))
    with pytest.raises(InvalidInput, match=f"the limit is {MAX_SPEC_BYTES}"):
        load_spec(big)


def test_a_sql_source_names_a_configured_database_and_a_query() -> None:
    text = edited(
        'type = "file"\npath = "toy.csv"', 'type = "sql"\ndatabase = "warehouse"\nquery = "SELECT * FROM t"'
    )
    spec = parse_spec(text)
    assert spec.source.to_dict() == {"type": "sql", "database": "warehouse", "query": "SELECT * FROM t"}
    with pytest.raises(InvalidInput, match="a sql source takes database and query"):
        parse_spec(edited('type = "file"', 'type = "sql"'))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("DELETE FROM t", "single SELECT"),
        ("SELECT * FROM t; DROP TABLE t", "found ';' inside it"),
        ("   ", "non-empty text"),
    ],
)
def test_a_query_that_could_never_train_is_refused_when_the_spec_is_parsed(query: str, message: str) -> None:
    """Not only when training runs: a spec that cannot train is never registered."""
    text = edited(
        'type = "file"\npath = "toy.csv"', f'type = "sql"\ndatabase = "warehouse"\nquery = "{query}"'
    )
    with pytest.raises(InvalidInput, match=message):
        parse_spec(text)


def test_the_reference_page_names_every_registered_estimator_transformer_and_parameter() -> None:
    from pipelines_testdata import REPO

    from steward.core.pipelines.registry import ESTIMATORS, TRANSFORMERS

    page = (REPO / "docs" / "pipelines.md").read_text(encoding="utf-8")
    for registry in (ESTIMATORS, TRANSFORMERS):
        for name, info in registry.items():
            assert f"`{name}`" in page, name
            for parameter in info.params:
                assert f"`{parameter}`" in page, f"{name}.{parameter}"
