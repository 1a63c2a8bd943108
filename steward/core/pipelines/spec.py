"""The pipeline spec: a TOML file that says what a pipeline is and how to train it.

Parsed strictly into frozen dataclasses: an unknown key, estimator, transformer
or parameter, a wrong type, or a preprocessing plan that could not work (a
category label fed to a scaler, a nullable column reaching an estimator that
rejects missing values) raises :class:`InvalidInput` naming the key before
anything is trained. The format is documented in ``docs/pipelines.md``.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any, Literal

from steward.core.errors import InvalidInput
from steward.core.pipelines.names import validate_name
from steward.core.pipelines.registry import (
    DROP,
    PASSTHROUGH,
    TASKS,
    Task,
    check_params,
    estimator_info,
    transformer_info,
)
from steward.core.pipelines.schema import InputSchema

SPEC_VERSION = 1
MAX_SPEC_BYTES = 256 * 1024
MAX_QUERY_CHARS = 100_000
SOURCE_SUFFIXES = (".csv", ".parquet")
_GROUP_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,39}")

SourceKind = Literal["file", "sql"]
SplitMethod = Literal["random", "ordered"]


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(sorted(mapping.items())))


@dataclass(frozen=True)
class SourceSpec:
    """Where training data comes from: a file under the data folder, or a query on a configured database."""

    kind: SourceKind
    path: str | None = None
    database: str | None = None
    query: str | None = None

    def __post_init__(self) -> None:
        if self.kind == "file":
            if self.path is None or self.database is not None or self.query is not None:
                raise InvalidInput("source: a file source takes path only")
            check_source_path(self.path)
        elif self.kind == "sql":
            if self.path is not None or self.database is None or self.query is None:
                raise InvalidInput("source: a sql source takes database and query")
            validate_name(self.database, "source.database", max_length=64)
            check_source_query(self.query)
        else:
            raise InvalidInput(f"source.type {self.kind!r} is not one of file, sql")

    def to_dict(self) -> dict[str, Any]:
        if self.kind == "file":
            return {"type": "file", "path": self.path}
        return {"type": "sql", "database": self.database, "query": self.query}


_READ_ONLY_START = re.compile(r"\s*(select|with)\b", re.IGNORECASE)


def check_source_query(query: object) -> str:
    """One SELECT (or WITH ... SELECT) statement, without its trailing ';'; raise naming the problem.

    Checked when the spec is registered, so a spec that could never train is
    refused then; the source checks again before running it. It guards against
    mistakes, not attacks: give Steward a read-only database user.
    """
    if not isinstance(query, str) or not query.strip():
        raise InvalidInput("source.query must be non-empty text")
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidInput(f"source.query is {len(query)} characters; the limit is {MAX_QUERY_CHARS}")
    statement = query.strip().rstrip(";").strip()
    if not _READ_ONLY_START.match(statement):
        raise InvalidInput("source.query must be a single SELECT (or WITH ... SELECT) statement")
    if ";" in statement:
        raise InvalidInput("source.query must be a single statement (found ';' inside it)")
    return statement


def check_source_path(path: object) -> str:
    """A relative POSIX path inside the data folder, ending in .csv or .parquet; raise naming the problem."""
    if not isinstance(path, str) or not path:
        raise InvalidInput("source.path must be non-empty text")
    if "\\" in path or path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        raise InvalidInput(f"source.path {path!r} must be relative to the data folder, with '/' separators")
    parts = PurePosixPath(path).parts
    if any(part in {"..", "."} for part in parts) or "//" in path:
        raise InvalidInput(f"source.path {path!r} must not contain '..', '.' or empty segments")
    for part in parts:
        validate_name(part, "source.path segment")
    if not path.lower().endswith(SOURCE_SUFFIXES):
        raise InvalidInput(f"source.path {path!r} must end in {' or '.join(SOURCE_SUFFIXES)}")
    return path


@dataclass(frozen=True)
class TrainingSpec:
    """How to split: ``random`` (stratified for classification by default) or ``ordered``."""

    seed: int = 0
    holdout: float = 0.2
    split: SplitMethod = "random"
    order_by: str | None = None
    stratify: bool | None = None

    def __post_init__(self) -> None:
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**32:
            raise InvalidInput("training.seed must be an integer from 0 to 4294967295")
        if isinstance(self.holdout, bool) or not isinstance(self.holdout, int | float):
            raise InvalidInput("training.holdout must be a number")
        if not 0.0 < float(self.holdout) <= 0.5:
            raise InvalidInput(f"training.holdout {self.holdout} must be above 0 and at most 0.5")
        object.__setattr__(self, "holdout", float(self.holdout))
        if self.split not in ("random", "ordered"):
            raise InvalidInput(f"training.split {self.split!r} is not one of random, ordered")
        if self.order_by is not None:
            if self.split != "ordered":
                raise InvalidInput("training.order_by applies only to split = 'ordered'")
            validate_name(self.order_by, "training.order_by")
        if self.stratify is not None and not isinstance(self.stratify, bool):
            raise InvalidInput("training.stratify must be true or false")
        if self.stratify and self.split == "ordered":
            raise InvalidInput("training.stratify applies only to split = 'random'")

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"seed": self.seed, "holdout": self.holdout, "split": self.split}
        if self.order_by is not None:
            data["order_by"] = self.order_by
        if self.stratify is not None:
            data["stratify"] = self.stratify
        return data


@dataclass(frozen=True)
class StepSpec:
    """One preprocessing step: a registered transformer and its checked parameters."""

    transformer: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", _frozen(self.params))

    def to_dict(self) -> dict[str, Any]:
        return {"transformer": self.transformer, **self.params}


@dataclass(frozen=True)
class GroupSpec:
    """A column group and the steps applied to it, in order."""

    name: str
    columns: tuple[str, ...]
    steps: tuple[StepSpec, ...]

    @property
    def is_drop(self) -> bool:
        return self.steps[0].transformer == DROP

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "columns": list(self.columns), "steps": [s.to_dict() for s in self.steps]}


@dataclass(frozen=True)
class ModelSpec:
    """The final estimator, by registered name, with checked parameters."""

    estimator: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", _frozen(self.params))

    def to_dict(self) -> dict[str, Any]:
        return {"estimator": self.estimator, "params": dict(self.params)}


@dataclass(frozen=True)
class PipelineSpec:
    """A validated pipeline definition; constructing one runs every cross-check."""

    name: str
    owner: str
    task: Task
    target: str
    schema: InputSchema
    source: SourceSpec
    model: ModelSpec
    preprocess: tuple[GroupSpec, ...]
    training: TrainingSpec = field(default_factory=TrainingSpec)
    description: str = ""
    positive_class: str | int | None = None
    spec_version: int = SPEC_VERSION

    def __post_init__(self) -> None:
        if self.spec_version != SPEC_VERSION:
            raise InvalidInput(
                f"spec_version {self.spec_version!r} is not supported (expected {SPEC_VERSION})"
            )
        validate_name(self.name, "pipeline.name", max_length=64)
        validate_name(self.owner, "pipeline.owner")
        if self.task not in TASKS:
            raise InvalidInput(f"pipeline.task {self.task!r} is not one of {', '.join(TASKS)}")
        validate_name(self.target, "pipeline.target")
        if not isinstance(self.description, str) or len(self.description) > 2000:
            raise InvalidInput("pipeline.description must be text of at most 2000 characters")
        if self.positive_class is not None:
            if self.task != "classification":
                raise InvalidInput("pipeline.positive_class applies only to classification")
            if isinstance(self.positive_class, bool) or not isinstance(self.positive_class, str | int):
                raise InvalidInput("pipeline.positive_class must be text or an integer")
        if self.target in self.schema:
            raise InvalidInput(
                f"pipeline.target {self.target!r} must not be a schema column (it is not an input)"
            )
        if self.training.stratify and self.task != "classification":
            raise InvalidInput("training.stratify applies only to classification")
        self._check_model()
        self._check_preprocess()

    def _check_model(self) -> None:
        info = estimator_info(self.model.estimator, self.task)
        params = check_params("model.params", info.name, info.params, self.model.params)
        object.__setattr__(self, "model", ModelSpec(info.name, params))  # normalised: 1 -> 1.0 for floats

    def _check_preprocess(self) -> None:
        if not self.preprocess:
            raise InvalidInput("preprocess: at least one [[preprocess]] group is needed")
        estimator = estimator_info(self.model.estimator, self.task)
        seen_groups: set[str] = set()
        owner_of: dict[str, str] = {}
        normalised: list[GroupSpec] = []
        for group in self.preprocess:
            where = f"preprocess group {group.name!r}"
            if not isinstance(group.name, str) or not _GROUP_NAME.fullmatch(group.name) or "__" in group.name:
                raise InvalidInput(
                    f"preprocess group name {group.name!r} must be 1-40 letters, digits, '_' or '-', "
                    "start with a letter and not contain '__'"
                )
            if group.name in seen_groups:
                raise InvalidInput(f"{where} is defined twice")
            seen_groups.add(group.name)
            if not group.columns:
                raise InvalidInput(f"{where}: columns must not be empty")
            if not group.steps:
                raise InvalidInput(f"{where}: steps must not be empty")
            for column in group.columns:
                if column not in self.schema:
                    raise InvalidInput(f"{where}: column {column!r} is not in the schema")
                if column in owner_of:
                    raise InvalidInput(f"{where}: column {column!r} is already in group {owner_of[column]!r}")
                owner_of[column] = group.name
            steps: list[StepSpec] = []
            for position, step in enumerate(group.steps):
                info = transformer_info(step.transformer, f"{where} step {position + 1}")
                params = check_params(f"{where} step {position + 1}", info.name, info.params, step.params)
                if info.name in (PASSTHROUGH, DROP) and len(group.steps) > 1:
                    raise InvalidInput(f"{where}: {info.name!r} must be the only step of its group")
                steps.append(StepSpec(info.name, params))
            group = GroupSpec(group.name, tuple(group.columns), tuple(steps))
            normalised.append(group)
            if not group.is_drop:
                self._check_group_kinds(group, where, estimator.accepts_missing, estimator.name)
        object.__setattr__(self, "preprocess", tuple(normalised))
        for column in self.schema.names:
            if column not in owner_of:
                raise InvalidInput(
                    f"schema column {column!r} is in no [[preprocess]] group; "
                    "put it in a group with steps = ['drop'] to ignore it"
                )
        if all(group.is_drop for group in self.preprocess):
            raise InvalidInput("preprocess: every group drops its columns; the model would have no input")

    def _check_group_kinds(self, group: GroupSpec, where: str, accepts_missing: bool, estimator: str) -> None:
        kinds = {column: self.schema.column(column).kind for column in group.columns}
        names = [step.transformer for step in group.steps]
        categorical = [column for column, kind in kinds.items() if kind == "categorical"]
        numeric = [column for column, kind in kinds.items() if kind != "categorical"]
        first_encoder = names.index("OneHotEncoder") if "OneHotEncoder" in names else len(names)
        if categorical:
            if first_encoder == len(names):
                raise InvalidInput(
                    f"{where}: column {categorical[0]!r} is categorical and needs a OneHotEncoder step "
                    "(or steps = ['drop'])"
                )
            for step in group.steps[:first_encoder]:
                strategy = step.params.get("strategy", "mean")
                if step.transformer != "SimpleImputer" or strategy not in ("most_frequent", "constant"):
                    raise InvalidInput(
                        f"{where}: column {categorical[0]!r} is categorical; before the OneHotEncoder only a "
                        "SimpleImputer with strategy 'most_frequent' or 'constant' may see it"
                    )
        for step in group.steps:
            fill = step.params.get("fill_value")
            if fill is None:
                continue
            if categorical and not isinstance(fill, str):
                raise InvalidInput(
                    f"{where}: fill_value must be text for categorical column {categorical[0]!r}"
                )
            if numeric and isinstance(fill, str):
                raise InvalidInput(f"{where}: fill_value must be a number for column {numeric[0]!r}")
        if not accepts_missing and not {"SimpleImputer", "OneHotEncoder"} & set(names):
            for column in group.columns:
                if self.schema.column(column).nullable:
                    raise InvalidInput(
                        f"{where}: column {column!r} may be missing and {estimator} does not accept missing "
                        "values; add a SimpleImputer step"
                    )

    @property
    def stratified(self) -> bool:
        """Whether the random split keeps class proportions (default: yes for classification)."""
        if self.training.split != "random" or self.task != "classification":
            return False
        return True if self.training.stratify is None else self.training.stratify

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain data, with the same structure as the TOML file (round-trips via from_dict)."""
        pipeline: dict[str, Any] = {
            "name": self.name,
            "owner": self.owner,
            "task": self.task,
            "target": self.target,
        }
        if self.description:
            pipeline["description"] = self.description
        if self.positive_class is not None:
            pipeline["positive_class"] = self.positive_class
        return {
            "spec_version": self.spec_version,
            "pipeline": pipeline,
            "source": self.source.to_dict(),
            "training": self.training.to_dict(),
            "schema": self.schema.to_dict(),
            "model": self.model.to_dict(),
            "preprocess": [group.to_dict() for group in self.preprocess],
        }

    def digest(self) -> str:
        """SHA-256 of the canonical JSON of :meth:`to_dict`: the same for equal specs, however laid out."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PipelineSpec:
        return _from_dict(data)


def _table(data: object, where: str, allowed: set[str], required: set[str]) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise InvalidInput(f"{where} must be a table")
    for key in data:
        if key not in allowed:
            raise InvalidInput(f"spec: unknown key {where + '.' if where != 'spec' else ''}{key}")
    for key in sorted(required):
        if key not in data:
            raise InvalidInput(f"spec: missing key {where + '.' if where != 'spec' else ''}{key}")
    return data


def _text(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{where} must be text")
    return value


def _step(value: object, where: str) -> StepSpec:
    if isinstance(value, str):
        return StepSpec(value)
    if not isinstance(value, Mapping) or "transformer" not in value:
        raise InvalidInput(f"{where} must be a transformer name or a table with a 'transformer' key")
    params = {k: v for k, v in value.items() if k != "transformer"}
    return StepSpec(_text(value["transformer"], f"{where}.transformer"), params)


def _from_dict(data: Mapping[str, Any]) -> PipelineSpec:
    top = _table(
        data,
        "spec",
        {"spec_version", "pipeline", "source", "training", "schema", "model", "preprocess"},
        {"spec_version", "pipeline", "source", "schema", "model", "preprocess"},
    )
    pipeline = _table(
        top["pipeline"],
        "pipeline",
        {"name", "owner", "task", "target", "description", "positive_class"},
        {"name", "owner", "task", "target"},
    )
    source = _table(top["source"], "source", {"type", "path", "database", "query"}, {"type"})
    training = _table(
        top.get("training", {}), "training", {"seed", "holdout", "split", "order_by", "stratify"}, set()
    )
    model = _table(top["model"], "model", {"estimator", "params"}, {"estimator"})
    params = _table(model.get("params", {}), "model.params", set(model.get("params", {})), set())
    groups = top["preprocess"]
    if not isinstance(groups, list):
        raise InvalidInput("preprocess must be an array of tables ([[preprocess]])")
    parsed_groups = []
    for index, group in enumerate(groups):
        where = f"preprocess[{index}]"
        table = _table(group, where, {"name", "columns", "steps"}, {"name", "columns", "steps"})
        columns, steps = table["columns"], table["steps"]
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise InvalidInput(f"{where}.columns must be a list of column names")
        if not isinstance(steps, list):
            raise InvalidInput(f"{where}.steps must be a list")
        parsed_groups.append(
            GroupSpec(
                name=table["name"],
                columns=tuple(columns),
                steps=tuple(_step(step, f"{where}.steps[{i}]") for i, step in enumerate(steps)),
            )
        )
    return PipelineSpec(
        spec_version=top["spec_version"],
        name=_text(pipeline["name"], "pipeline.name"),
        owner=_text(pipeline["owner"], "pipeline.owner"),
        task=pipeline["task"],
        target=_text(pipeline["target"], "pipeline.target"),
        description=pipeline.get("description", ""),
        positive_class=pipeline.get("positive_class"),
        schema=InputSchema.from_dict(top["schema"]),
        source=SourceSpec(
            kind=source["type"],
            path=source.get("path"),
            database=source.get("database"),
            query=source.get("query"),
        ),
        training=TrainingSpec(**training),
        model=ModelSpec(_text(model["estimator"], "model.estimator"), params),
        preprocess=tuple(parsed_groups),
    )


def parse_spec(text: str | bytes) -> PipelineSpec:
    """Parse and validate a TOML spec; every problem raises :class:`InvalidInput` naming the key."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    if len(raw) > MAX_SPEC_BYTES:
        raise InvalidInput(f"spec is {len(raw)} bytes; the limit is {MAX_SPEC_BYTES}")
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("spec is not UTF-8 text") from None
    try:
        data = tomllib.loads(decoded)
    except tomllib.TOMLDecodeError as error:
        raise InvalidInput(f"spec is not valid TOML: {error}") from None
    return _from_dict(data)


def load_spec(path: str | Path) -> PipelineSpec:
    """Read and parse a spec file, refusing files over :data:`MAX_SPEC_BYTES` before reading them."""
    location = Path(path)
    try:
        size = location.stat().st_size
    except OSError as error:
        raise InvalidInput(f"spec file {str(location)!r} cannot be read: {error.strerror}") from None
    if size > MAX_SPEC_BYTES:
        raise InvalidInput(f"spec file is {size} bytes; the limit is {MAX_SPEC_BYTES}")
    return parse_spec(location.read_bytes())
