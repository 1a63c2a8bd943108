"""The model card: what a pipeline version predicts, from what, how well, and where it falls short.

Written for a business reviewer who signs off a model without being a data
scientist: every metric is translated into a sentence about cases, the
accuracy is set against the share of the most common answer (81 % right is not
impressive when 78 % never default), and the limits are stated, not implied.
Built only from what the registry recorded at training time (metrics, chart
data, lineage, schema, warnings), so the card of a version never changes.

Plain Python on purpose: the page, a PDF export or the CLI render the same
card. All text is plain (no Markdown): shells must escape it, since it
contains names and descriptions people typed.

The rules a page must not decide live here too: which metric is the headline
(:func:`primary_metric`), and whether one version beats another
(:func:`is_better`, :func:`compare_versions`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from steward.core.domain.registry import HIGHER_IS_BETTER, PRIMARY_METRIC, PipelineVersion

METRIC_LABELS: dict[str, str] = {
    "roc_auc": "ROC AUC",
    "accuracy": "Accuracy",
    "f1": "F1",
    "log_loss": "Log loss",
    "mae": "Mean absolute error",
    "rmse": "Root mean squared error",
    "r2": "R²",
}
METRIC_SHORT: dict[str, str] = {"mae": "MAE", "rmse": "RMSE"}
METRIC_ORDER = ("roc_auc", "accuracy", "f1", "log_loss", "mae", "rmse", "r2")

_LINEAR = "a weighted sum of the inputs{}. Simple, and each input's weight can be read directly"
_TREES = "Usually more accurate than a weighted sum, but an individual answer is hard to explain"
_BOOSTING = (
    "gradient boosting: many small decision trees, each correcting the ones before. Usually among the "
    "most accurate methods for tables, but an individual answer is hard to explain"
)
# What each allowed estimator is, in words a reviewer can weigh (how explainable it is matters to them).
ESTIMATOR_WORDS: dict[str, str] = {
    "LogisticRegression": "logistic regression: " + _LINEAR.format(" turned into a probability"),
    "Ridge": "linear regression (ridge): " + _LINEAR.format(""),
    "RandomForestClassifier": "random forest: hundreds of decision trees that vote. " + _TREES,
    "RandomForestRegressor": "random forest: hundreds of decision trees, averaged. " + _TREES,
    "HistGradientBoostingClassifier": _BOOSTING,
    "HistGradientBoostingRegressor": _BOOSTING,
    "GradientBoostingClassifier": _BOOSTING,
    "GradientBoostingRegressor": _BOOSTING,
}

# Words in column names that often mean a protected characteristic (a prompt to look, not a verdict).
SENSITIVE_WORDS = frozenset(
    {"age", "birth", "dob", "sex", "gender", "race", "ethnic", "ethnicity", "religion", "marriage"}
    | {"marital", "nationality", "citizenship", "disability", "pregnant", "pregnancy", "education"}
)

CALIBRATION_TOLERANCE = 0.05  # mean gap (probability points) above which probabilities are not chances
IMBALANCE_SHARE = 0.25  # a class rarer than this makes accuracy misleading
SMALL_HOLDOUT = 200  # fewer hold-out cases than this: the figures are shaky
SMALL_TRAINING = 1000
TOP_INPUTS = 5
INPUTS_LISTED = 12


# ---- the card -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KeyFigure:
    """A headline number with its meaning; ``delta`` compares with the previous version."""

    label: str
    value: str
    meaning: str
    delta: str | None = None
    higher_is_better: bool = True


@dataclass(frozen=True)
class Section:
    """Paragraphs, then bullets, then closing paragraphs (``after``); ``charts`` names the figures
    that illustrate it (keys of the version's chart data, plus ``residual_histogram``), in order."""

    heading: str
    paragraphs: tuple[str, ...] = ()
    bullets: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    charts: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelCard:
    """Plain text only: render every string escaped (it quotes names and descriptions people typed)."""

    title: str
    subtitle: str
    summary: str
    key_figures: tuple[KeyFigure, ...]
    sections: tuple[Section, ...]

    def section(self, heading: str) -> Section:
        return next(section for section in self.sections if section.heading == heading)

    def to_text(self) -> str:
        """The whole card as plain text, for a download or an e-mail to a reviewer."""
        lines = [self.title, self.subtitle, "", self.summary, ""]
        for figure in self.key_figures:
            delta = f" ({figure.delta})" if figure.delta else ""
            lines.append(f"{figure.label}: {figure.value}{delta}. {figure.meaning}")
        for section in self.sections:
            lines += ["", section.heading, "-" * len(section.heading)]
            lines += [*section.paragraphs]
            lines += [f"- {bullet}" for bullet in section.bullets]
            lines += [*section.after]
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Comparison:
    """One version against the previous on the headline metric, and whether the comparison is fair."""

    metric: str
    current: float | None
    previous: float | None
    better: bool | None  # None: no values to compare, or equal
    same_data: bool
    same_holdout: bool

    @property
    def fair(self) -> bool:
        return self.same_data and self.same_holdout


# ---- rules the page must not decide --------------------------------------------------------------
def primary_metric(task: str) -> str:
    """The headline metric: ROC AUC ranks regardless of the cut-off; RMSE is in the target's units."""
    return PRIMARY_METRIC.get(task, "")


def metric_label(name: str, *, short: bool = False, direction: bool = False) -> str:
    """A metric's name for people; ``direction`` adds "(lower is better)" where that is the case."""
    label = (METRIC_SHORT.get(name) if short else None) or METRIC_LABELS.get(name, name)
    if direction and not HIGHER_IS_BETTER.get(name, True):
        label += " (lower is better)"
    return label


def allowed_values(column: Mapping[str, Any]) -> str:
    """What a schema column accepts, in words: "18 to 120", "one of 1, 2", "0 or more", "any number"."""
    categories = column.get("categories")
    if categories:
        return "one of " + ", ".join(str(c) for c in categories)
    low, high = column.get("min"), column.get("max")
    kind = column.get("kind")
    if kind == "boolean":
        return "true or false"
    if low is not None and high is not None:
        return f"{_bound(low)} to {_bound(high)}"
    if low is not None:
        return f"{_bound(low)} or more"
    if high is not None:
        return f"{_bound(high)} or less"
    return {"numeric": "any number", "integer": "any whole number", "categorical": "any label"}.get(
        str(kind), "any"
    )


def format_metric(name: str, value: float | None) -> str:
    """Numbers for tables: errors in the target's units with one decimal, scores with three."""
    if value is None or not math.isfinite(value):
        return "-"
    if name in ("mae", "rmse"):
        return f"{value:,.1f}"
    return f"{value:.3f}"


def is_better(metric: str, value: float | None, other: float | None) -> bool | None:
    """True if ``value`` beats ``other`` on ``metric``; None when either is missing or they are equal."""
    if value is None or other is None or metric not in HIGHER_IS_BETTER or value == other:
        return None
    return (value > other) == HIGHER_IS_BETTER[metric]


def ordered_metrics(metrics: Mapping[str, float | None]) -> list[str]:
    known = [name for name in METRIC_ORDER if name in metrics]
    return known + sorted(name for name in metrics if name not in METRIC_ORDER)


def compare_versions(current: PipelineVersion, previous: PipelineVersion) -> Comparison:
    """Is ``current`` better than ``previous`` on the headline metric, and measured on the same cases?"""
    metric = primary_metric(current.task)
    now, before = current.metrics.get(metric), previous.metrics.get(metric)
    same_data = current.data_digest == previous.data_digest
    split_now, split_before = current.lineage.get("split"), previous.lineage.get("split")
    same_holdout = same_data and split_now is not None and split_now == split_before
    return Comparison(metric, now, before, is_better(metric, now, before), same_data, same_holdout)


def deployed_versions(deployed: Mapping[str, int]) -> dict[int, list[str]]:
    """Invert environment -> version number into version number -> environments (in the given order)."""
    result: dict[int, list[str]] = {}
    for environment, number in deployed.items():
        result.setdefault(int(number), []).append(environment)
    return result


def feature_label(feature: str, categorical: Sequence[str] = ()) -> tuple[str, str | None]:
    """A preprocessed feature as people name it, and the category it stands for (one-hot), if any.

    ``amounts__LIMIT_BAL`` -> ``("LIMIT_BAL", None)``; ``profile__SEX_2`` with SEX categorical ->
    ``("SEX", "2")``. The group prefix is scikit-learn's, not the spec author's vocabulary.
    """
    name = feature.split("__", 1)[1] if "__" in feature else feature
    for column in sorted(categorical, key=len, reverse=True):
        if name.startswith(f"{column}_") and len(name) > len(column) + 1:
            return column, name[len(column) + 1 :]
    return name, None


def _feature_text(feature: str, categorical: Sequence[str]) -> str:
    column, category = feature_label(feature, categorical)
    return column if category is None else f"{column} = {category}"


def _categorical(version: PipelineVersion) -> list[str]:
    columns = version.schema.get("columns") or []
    return [str(c.get("name")) for c in columns if c.get("kind") == "categorical"]


def importance_chart_data(version: PipelineVersion) -> Mapping[str, Any] | None:
    """Which importance to show: by input column (permutation) when recorded, else the estimator's own
    (its features renamed as people name them: ``SEX = 2`` rather than ``profile__SEX_2``)."""
    charts = version.charts
    permutation = charts.get("permutation_importances")
    if permutation and permutation.get("features"):
        return dict(permutation)
    native = charts.get("feature_importances")
    if native and native.get("features"):
        categorical = _categorical(version)
        return {**native, "features": [_feature_text(str(f), categorical) for f in native["features"]]}
    return None


# ---- helpers for the wording ---------------------------------------------------------------------
def _pct(share: float, digits: int = 0) -> str:
    return f"{share * 100:.{digits}f}%"


def _count(value: int | float) -> str:
    return f"{int(value):,}"


def _num(value: float) -> str:
    """A measurement in the target's units: no false precision."""
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:,.1f}"
    if magnitude >= 1:
        return f"{value:,.2f}"
    return f"{value:.3g}"


def _bound(value: Any) -> str:
    number = float(value)
    return f"{int(number):,}" if number.is_integer() else f"{number:g}"


def _label(value: Any) -> str:
    return str(value)


def _list(names: Sequence[str], limit: int = INPUTS_LISTED) -> str:
    shown = list(names[:limit])
    more = len(names) - len(shown)
    if not shown:
        return ""
    text = ", ".join(shown)
    return f"{text} and {more} more" if more > 0 else text


def _spec_field(version: PipelineVersion, table: str, key: str, default: Any = None) -> Any:
    section = version.spec.get(table)
    return section.get(key, default) if isinstance(section, Mapping) else default


@dataclass(frozen=True)
class _Confusion:
    """The hold-out confusion matrix (rows: actual, columns: predicted at the most likely class)."""

    labels: tuple[Any, ...]
    matrix: tuple[tuple[int, ...], ...]

    @property
    def total(self) -> int:
        return sum(sum(row) for row in self.matrix)

    def actual(self, index: int) -> int:
        return sum(self.matrix[index])

    def predicted(self, index: int) -> int:
        return sum(row[index] for row in self.matrix)

    def majority(self) -> tuple[Any, float]:
        counts = [self.actual(i) for i in range(len(self.labels))]
        best = max(range(len(counts)), key=lambda i: counts[i])
        return self.labels[best], counts[best] / self.total

    def share(self, index: int) -> float:
        return self.actual(index) / self.total


def _confusion(version: PipelineVersion) -> _Confusion | None:
    data = version.charts.get("confusion")
    if not data:
        return None
    labels = tuple(data.get("labels") or ())
    matrix = tuple(tuple(int(cell) for cell in row) for row in data.get("matrix") or ())
    if not labels or len(matrix) != len(labels) or not any(any(row) for row in matrix):
        return None
    return _Confusion(labels, matrix)


def recall_of(version: PipelineVersion) -> float | None:
    """Share of the positive test cases a binary classifier catches at the default cut-off."""
    confusion = _confusion(version)
    positive = version.lineage.get("positive_class")
    if confusion is None or positive is None or positive not in confusion.labels:
        return None
    index = confusion.labels.index(positive)
    actual = confusion.actual(index)
    return confusion.matrix[index][index] / actual if actual else None


def calibration_gap(bins: Sequence[Mapping[str, Any]] | None) -> float | None:
    """Mean distance between predicted probability and observed frequency, weighted by cases per bin."""
    if not bins:
        return None
    total = sum(int(b.get("count", 0)) for b in bins)
    if total == 0:
        return None
    return (
        sum(
            abs(float(b["mean_predicted"]) - float(b["fraction_positive"])) * int(b.get("count", 0))
            for b in bins
        )
        / total
    )


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _years_mentioned(text: str, before: int) -> list[int]:
    years = {int(match) for match in re.findall(r"(?<!\d)(?:19|20)\d{2}(?!\d)", text)}
    return sorted(year for year in years if 1900 <= year <= before)


def _sensitive_columns(names: Sequence[str]) -> list[str]:
    found = []
    for name in names:
        words = {word for word in re.split(r"[^a-z]+", name.lower()) if word}
        if words & SENSITIVE_WORDS:
            found.append(name)
    return found


# ---- building the card ---------------------------------------------------------------------------
class _CardBuilder:
    def __init__(self, version: PipelineVersion, previous: PipelineVersion | None) -> None:
        self.v = version
        self.previous = previous
        self.task = version.task
        self.target = str(_spec_field(version, "pipeline", "target", "the target"))
        self.description = str(_spec_field(version, "pipeline", "description", "") or "").strip()
        self.owner = str(_spec_field(version, "pipeline", "owner", "") or "")
        self.lineage = version.lineage
        self.split: Mapping[str, Any] = version.lineage.get("split") or {}
        self.holdout_rows = int(self.split.get("holdout_rows") or 0)
        self.classes: list[Any] = list(version.lineage.get("classes") or [])
        self.positive = version.lineage.get("positive_class")
        self.columns: list[Mapping[str, Any]] = list(version.schema.get("columns") or [])
        self.confusion = _confusion(version)
        self.limits: list[str] = []

    # -- names for cases
    def is_case(self, label: Any) -> str:
        return f"{self.target} = {_label(label)}"

    @property
    def binary(self) -> bool:
        return self.task == "classification" and self.positive is not None

    @property
    def negative(self) -> Any:
        others = [c for c in self.classes if c != self.positive]
        return others[0] if others else "other"

    # -- sections
    def what_it_predicts(self) -> Section:
        paragraphs = []
        if self.description:
            paragraphs.append(f"In the owner's words: {self.description}")
        inputs = [str(column.get("name")) for column in self.columns]
        if self.binary:
            paragraphs.append(
                f"For each case it gives the probability that {self.is_case(self.positive)} "
                f"(rather than {_label(self.negative)}), from {len(inputs)} input columns. "
                "The model gives a score; what to do above which score (the cut-off) is decided "
                "outside the model."
            )
        elif self.task == "classification":
            paragraphs.append(
                f"For each case it picks one of {len(self.classes)} possible values of {self.target} "
                f"({_list([_label(c) for c in self.classes])}) and gives the probability of each, "
                f"from {len(inputs)} input columns."
            )
        else:
            paragraphs.append(
                f"For each case it estimates a number, {self.target}, from {len(inputs)} input columns. "
                "It gives one number, without a range of uncertainty."
            )
        estimator = str(self.lineage.get("estimator") or _spec_field(self.v, "model", "estimator", ""))
        words = ESTIMATOR_WORDS.get(estimator)
        method = f"Method: {words}." if words else f"Method: {estimator}."
        paragraphs.append(method)
        bullets = [f"Inputs: {_list(inputs)}." if inputs else "Inputs: none recorded."]
        if self.owner:
            bullets.append(f"Owner: {self.owner}.")
        return Section("What it predicts", tuple(paragraphs), tuple(bullets))

    def what_it_learned_from(self) -> Section:
        source = str(self.lineage.get("source") or "")
        where = (
            f"the file {source.removeprefix('file:')}"
            if source.startswith("file:")
            else f"a query on the database {source.split(':')[1]}"
            if source.startswith("sql:") and source.count(":") >= 2
            else "an unrecorded source"
        )
        rows = self.v.data_rows
        paragraphs = [
            f"{_count(rows)} rows from {where}, trained on {self.v.trained_at:%Y-%m-%d} "
            f"by {self.v.trained_by}"
            + (" (fitted elsewhere and uploaded)." if self.v.origin == "uploaded" else ".")
        ]
        retrained = self.lineage.get("retrained_from")
        if self.v.origin == "retrained" and isinstance(retrained, dict):
            sentence = (
                f"It was retrained on production data from {retrained.get('environment', 'an environment')}"
            )
            if retrained.get("labels"):
                left_out = int(retrained.get("unlabelled_rows") or 0)
                sentence += (
                    f", whose outcomes arrived later in {retrained['labels']} and were matched on "
                    f"{retrained.get('id_column', 'an id')}"
                    + (f"; {_count(left_out)} rows without an outcome yet were left out" if left_out else "")
                )
            paragraphs.append(sentence + ".")
        train_rows = int(self.split.get("train_rows") or 0)
        fraction = float(self.split.get("holdout_fraction") or 0.0)
        if self.split.get("method") == "ordered":
            order = self.split.get("order_by")
            by = f"when sorted by {order}" if order else "in file order"
            how = f"the last {_count(self.holdout_rows)} rows {by} (the most recent)"
        else:
            kept = " keeping the share of each answer the same" if self.split.get("stratified") else ""
            how = f"{_count(self.holdout_rows)} rows chosen at random{kept}"
        paragraphs.append(
            f"It learned from {_count(train_rows)} rows. The other {_pct(fraction)}, {how}, were held "
            "back to test it: every figure on this card is measured on those cases, which the model "
            "never saw while learning."
        )
        if self.confusion is not None:
            shares = [
                f"{_pct(self.confusion.share(i), 1)} {self.is_case(label)}"
                for i, label in enumerate(self.confusion.labels)
            ]
            paragraphs.append("Among the test cases: " + ", ".join(shares) + ".")
        bullets = [
            f"Data fingerprint {self.v.data_digest[:12]}: another version with the same fingerprint "
            "learned from exactly the same data.",
        ]
        return Section("What it learned from", tuple(paragraphs), tuple(bullets))

    def how_well(self) -> tuple[Section, list[KeyFigure]]:
        if self.task == "classification":
            return self._how_well_classification()
        return self._how_well_regression()

    def _delta(self, metric: str, value: float | None, *, percent: bool = False) -> str | None:
        if self.previous is None or value is None:
            return None
        before = self.previous.metrics.get(metric)
        if before is None:
            return None
        change = value - before
        shown = f"{change * 100:+.1f} points" if percent else f"{change:+.3f}"
        if metric in ("mae", "rmse"):
            shown = f"{change:+,.1f}"
        if not any(digit in "123456789" for digit in shown):
            return None  # unchanged at the precision shown: an arrow would suggest a change
        return f"{shown} vs {self.previous.label}"

    def _how_well_classification(self) -> tuple[Section, list[KeyFigure]]:
        metrics = self.v.metrics
        paragraphs: list[str] = []
        figures: list[KeyFigure] = []
        auc = metrics.get("roc_auc")
        if auc is not None and self.binary:
            paragraphs.append(
                f"Ranking (ROC AUC {auc:.2f}): given a random case with {self.is_case(self.positive)} "
                f"and a random case with {self.is_case(self.negative)}, the model gives the first the "
                f"higher score {_pct(auc)} of the time. 50% would be a coin toss, 100% perfect."
            )
            figures.append(
                KeyFigure(
                    "Ranking (ROC AUC)",
                    f"{auc:.3f}",
                    "50% is a coin toss, 100% perfect",
                    self._delta("roc_auc", auc),
                )
            )
        elif auc is not None:
            paragraphs.append(
                f"Ranking (ROC AUC {auc:.2f}, each value against the rest, averaged): given a random "
                f"case of one value and a random case of another, the model scores the right one higher "
                f"{_pct(auc)} of the time. 50% would be a coin toss, 100% perfect."
            )
            figures.append(KeyFigure("Ranking (ROC AUC)", f"{auc:.3f}", "50% is a coin toss", None))
        else:
            paragraphs.append("Ranking quality (ROC AUC) could not be measured on these test cases.")

        accuracy = metrics.get("accuracy")
        if accuracy is not None:
            sentence = (
                f"Right answers (accuracy {_pct(accuracy, 1)}): the model's most likely answer is right "
                f"for {_pct(accuracy, 1)} of the {_count(self.holdout_rows)} test cases."
            )
            meaning = "of test cases answered right"
            if self.confusion is not None:
                label, base = self.confusion.majority()
                gain = accuracy - base
                sentence += (
                    f" Set that against the simplest rule: {_pct(base, 1)} of the test cases are "
                    f"{self.is_case(label)}, so always answering {_label(label)} would already be right "
                    f"{_pct(base, 1)} of the time."
                )
                if gain > 0.01:
                    sentence += f" The model adds {gain * 100:.1f} percentage points to that."
                else:
                    sentence += (
                        " The model does no better than that rule on this measure: judge it by its "
                        "ranking and by how many cases it catches instead."
                    )
                meaning = f"always answering {_label(label)}: {_pct(base, 1)}"
            paragraphs.append(sentence)
            figures.append(
                KeyFigure(
                    "Right answers",
                    _pct(accuracy, 1),
                    meaning,
                    self._delta("accuracy", accuracy, percent=True),
                )
            )

        if self.binary and self.confusion is not None and self.positive in self.confusion.labels:
            p = self.confusion.labels.index(self.positive)
            actual = self.confusion.actual(p)
            flagged = self.confusion.predicted(p)
            caught = self.confusion.matrix[p][p]
            if actual:
                recall = caught / actual
                paragraphs.append(
                    f"Catching cases (recall {_pct(recall)}): of the {_count(actual)} test cases with "
                    f"{self.is_case(self.positive)}, the model's most likely answer catches "
                    f"{_count(caught)} and misses {_count(actual - caught)}."
                    + (
                        f" Of the {_count(flagged)} cases it answers {_label(self.positive)}, "
                        f"{_count(caught)} ({_pct(caught / flagged)}) really are; the other "
                        f"{_count(flagged - caught)} are false alarms."
                        if flagged
                        else f" It never answers {_label(self.positive)}."
                    )
                    + " This is at the default cut-off (a probability above 50%): a lower cut-off "
                    "catches more cases at the price of more false alarms."
                )
                before = recall_of(self.previous) if self.previous is not None else None
                figures.append(
                    KeyFigure(
                        "Caught (recall)",
                        _pct(recall),
                        f"of {_count(actual)} test cases with {self.is_case(self.positive)}",
                        None
                        if before is None or self.previous is None or round((recall - before) * 1000) == 0
                        else f"{(recall - before) * 100:+.1f} points vs {self.previous.label}",
                    )
                )
        f1 = metrics.get("f1")
        if f1 is not None:
            if self.binary:
                paragraphs.append(
                    f"F1 {f1:.2f} sums up catching cases and avoiding false alarms in one number "
                    "(1 is perfect, 0 catches nothing)."
                )
            else:
                paragraphs.append(
                    f"F1 {f1:.2f} sums up, for each value, catching its cases and avoiding false "
                    f"alarms, averaged over the {len(self.classes)} values (1 is perfect)."
                )
        gap = calibration_gap(self.v.charts.get("calibration"))
        if gap is not None:
            if gap <= CALIBRATION_TOLERANCE:
                paragraphs.append(
                    f"Its probabilities can be read as chances: on the test cases they were on average "
                    f"within {gap * 100:.1f} percentage points of how often {self.is_case(self.positive)} "
                    "actually happened."
                )
            else:
                paragraphs.append(
                    f"Its probabilities are off by {gap * 100:.1f} percentage points on average from how "
                    f"often {self.is_case(self.positive)} actually happened: use them to rank cases, "
                    "not as chances."
                )
                self.limits.append(
                    f"Its probabilities are not reliable chances (off by {gap * 100:.1f} points on average)."
                )
        figures.append(
            KeyFigure("Test cases", _count(self.holdout_rows), "held back, never seen in training")
        )
        self._imbalance_limit()
        charts = tuple(name for name in ("roc", "calibration", "confusion") if self.v.charts.get(name))
        return Section("How well it works", tuple(paragraphs), charts=charts), figures

    def _imbalance_limit(self) -> None:
        if self.confusion is None:
            return
        for index, label in enumerate(self.confusion.labels):
            share = self.confusion.share(index)
            if 0 < share < IMBALANCE_SHARE:
                actual = self.confusion.actual(index)
                caught = self.confusion.matrix[index][index]
                self.limits.append(
                    f"Only {_pct(share, 1)} of cases are {self.is_case(label)}: a high share of right "
                    f"answers says little about them, and at the default cut-off the model misses "
                    f"{_pct((actual - caught) / actual)} of them."
                )

    def _how_well_regression(self) -> tuple[Section, list[KeyFigure]]:
        metrics = self.v.metrics
        paragraphs: list[str] = []
        figures: list[KeyFigure] = []
        residuals = self.v.charts.get("residuals") or {}
        actual = [float(a) for a in residuals.get("actual") or []]
        predicted = [float(p) for p in residuals.get("predicted") or []]
        mae = metrics.get("mae")
        if mae is not None:
            sentence = (
                f"Typical miss (mean absolute error {_num(mae)}): on average the estimate is {_num(mae)} "
                f"away from the actual {self.target}, in the same units as {self.target}."
            )
            if actual:
                mean_actual = sum(actual) / len(actual)
                if mean_actual:
                    sentence += (
                        f" For scale, the average actual {self.target} in the test cases is "
                        f"{_num(mean_actual)}, so the typical miss is about "
                        f"{_pct(abs(mae / mean_actual))} of it."
                    )
            paragraphs.append(sentence)
            figures.append(
                KeyFigure(
                    "Typical miss (MAE)",
                    _num(mae),
                    f"in units of {self.target}",
                    self._delta("mae", mae),
                    higher_is_better=False,
                )
            )
        if actual and len(actual) == len(predicted):
            misses = [abs(a - p) for a, p in zip(actual, predicted, strict=True)]
            paragraphs.append(
                f"Half of the estimates are within {_num(_quantile(misses, 0.5))} of the actual value, "
                f"and 9 in 10 within {_num(_quantile(misses, 0.9))}"
                + (
                    f" (from a sample of {_count(len(misses))} of the test cases)."
                    if int(residuals.get("sampled_from") or len(misses)) > len(misses)
                    else "."
                )
            )
        rmse = metrics.get("rmse")
        if rmse is not None and mae is not None and mae > 0 and rmse > 1.5 * mae:
            paragraphs.append(
                f"The root mean squared error ({_num(rmse)}) is well above the typical miss: now and then "
                "the model is off by much more than usual."
            )
        r2 = metrics.get("r2")
        if r2 is not None:
            if r2 >= 0:
                paragraphs.append(
                    f"Share of variation explained (R² {r2:.2f}): the model accounts for {_pct(r2)} of "
                    f"how much {self.target} varies from case to case. 0% would be no better than always "
                    "guessing the average, 100% perfect."
                )
            else:
                paragraphs.append(
                    f"R² is {r2:.2f}: the model does worse than always guessing the average {self.target}."
                )
            figures.append(
                KeyFigure(
                    "Variation explained (R²)",
                    _pct(max(r2, 0.0)) if r2 >= 0 else f"{r2:.2f}",
                    "0% is guessing the average",
                    self._delta("r2", r2, percent=True),
                )
            )
        figures.append(
            KeyFigure("Test cases", _count(self.holdout_rows), "held back, never seen in training")
        )
        charts = ("residuals", "residual_histogram") if actual else ()
        return Section("How well it works", tuple(paragraphs), charts=charts), figures

    def what_it_relies_on(self) -> Section | None:
        data = importance_chart_data(self.v)
        if data is None:
            return None
        descriptions = {
            str(column.get("name")): str(column.get("description") or "") for column in self.columns
        }
        features = [str(f) for f in data.get("features") or []]
        values = [float(v) for v in data.get("values") or []]
        kind = data.get("kind")
        if kind == "permutation":
            ranked = [(f, v) for f, v in zip(features, values, strict=False) if v > 0][:TOP_INPUTS]
            intro = (
                "The inputs that matter most, measured by how much worse the model does on the test "
                "cases when an input's values are shuffled:"
            )
            bullets = [f"{name}{self._described(name, descriptions)}" for name, _ in ranked]
        elif kind == "coefficient":
            ranked = list(zip(features, values, strict=False))[:TOP_INPUTS]
            # A binary model's weights push toward the second class: flip them if that is not the positive.
            sign = -1.0 if self.binary and self.classes and self.positive != self.classes[-1] else 1.0
            up, down = (
                (f"{self.is_case(self.positive)} more likely", f"{self.is_case(self.positive)} less likely")
                if self.binary
                else (f"the estimate of {self.target} higher", f"the estimate of {self.target} lower")
            )
            intro = (
                "The inputs with the largest weights (inputs are put on a common scale first, so the "
                "weights compare):"
            )
            bullets = [
                f"{name}{self._described(self._column(name), descriptions)}: "
                + ("" if " = " in name else "a higher value ")
                + "makes "
                + (up if value * sign > 0 else down)
                for name, value in ranked
            ]
        elif kind == "mean_abs_coefficient":
            ranked = list(zip(features, values, strict=False))[:TOP_INPUTS]
            intro = "The inputs with the largest weights, averaged over the possible answers:"
            bullets = [f"{name}{self._described(self._column(name), descriptions)}" for name, _ in ranked]
        else:
            ranked = list(zip(features, values, strict=False))[:TOP_INPUTS]
            intro = "The inputs the model's trees rely on most:"
            bullets = [f"{name}{self._described(self._column(name), descriptions)}" for name, _ in ranked]
        if not bullets:
            return None
        closing = (
            f"This shows what the model relies on, not what causes {self.target}: an input can matter "
            "because it goes along with the real cause."
        )
        return Section("What it relies on", (intro,), tuple(bullets), (closing,), ("importance",))

    @staticmethod
    def _column(label: str) -> str:
        return label.split(" = ", 1)[0]

    @staticmethod
    def _described(name: str, descriptions: Mapping[str, str]) -> str:
        text = descriptions.get(name, "")
        return f" ({text})" if text else ""

    def compared(self) -> Section | None:
        if self.previous is None:
            return None
        comparison = compare_versions(self.v, self.previous)
        label = metric_label(comparison.metric)
        if comparison.current is None or comparison.previous is None:
            text = f"{label} cannot be compared with {self.previous.label}: one of them was not measured."
        else:
            verdict = {True: "better than", False: "worse than", None: "the same as"}[comparison.better]
            text = (
                f"On {label}, {self.v.label} is {verdict} {self.previous.label}: "
                f"{format_metric(comparison.metric, comparison.current)} against "
                f"{format_metric(comparison.metric, comparison.previous)}."
            )
        if comparison.fair:
            fairness = "Both were tested on exactly the same cases, so the comparison is fair."
        elif comparison.same_data:
            fairness = (
                "Both learned from the same data but were tested on different cases: "
                "the comparison is indicative only."
            )
        else:
            fairness = (
                f"They learned from different data (fingerprints {self.v.data_digest[:12]} and "
                f"{self.previous.data_digest[:12]}), so they were tested on different cases: "
                "the comparison is indicative only."
            )
        changes = []
        for name in ordered_metrics(self.v.metrics):
            now, before = self.v.metrics.get(name), self.previous.metrics.get(name)
            if now is None or before is None:
                continue
            better = is_better(name, now, before)
            mark = {True: "better", False: "worse", None: "same"}[better]
            changes.append(
                f"{metric_label(name)}: {format_metric(name, before)} -> {format_metric(name, now)} ({mark})"
            )
        return Section(f"Compared with {self.previous.label}", (text, fairness), tuple(changes))

    def known_limits(self) -> Section:
        limits: list[str] = []
        if self.split.get("method") == "ordered":
            limits.append(
                f"The figures come from the latest {_count(self.holdout_rows)} rows of the training data, "
                "not from live use. That is closer to real use than a random test, but results on new "
                "cases can still be worse; the drift monitors watch for this once it is deployed."
            )
        else:
            limits.append(
                f"The figures come from {_count(self.holdout_rows)} cases of the same data it learned "
                "from, not from live use. They show how it does on cases like those; results on new "
                "cases can be worse, and the drift monitors watch for this once it is deployed."
            )
        if 0 < self.holdout_rows < SMALL_HOLDOUT:
            limits.append(
                f"Only {_count(self.holdout_rows)} test cases: the figures could move by several points "
                "with other cases."
            )
        if 0 < self.v.data_rows < SMALL_TRAINING:
            limits.append(f"It learned from only {_count(self.v.data_rows)} rows.")
        limits.extend(self.limits)
        years = _years_mentioned(self.description, self.v.trained_at.year)
        period = (
            f"The description mentions {_list([str(y) for y in years])}: if the data is from then, it "
            f"was about {self.v.trained_at.year - years[-1]} years old when this version was trained. "
            if years
            else "The period the data covers is not recorded. "
        )
        limits.append(period + "Customers, prices and rules change: a model is only as current as its data.")
        ranged = [c for c in self.columns if c.get("min") is not None and c.get("max") is not None]
        listed = [c for c in self.columns if c.get("categories")]
        example = "; ".join(
            f"{column.get('name')} {self._range_text(column)}" for column in [*ranged[:1], *listed[:1]]
        )
        limits.append(
            "Inputs outside the declared schema are refused rather than guessed"
            + (f" (for example {example})" if example else "")
            + ". Cases within those limits but unlike anything it learned from still get an answer, "
            "which may be poor."
        )
        sensitive = _sensitive_columns([str(column.get("name")) for column in self.columns])
        fairness = (
            "No fairness assessment has been recorded: nobody has yet checked whether the model's "
            "mistakes fall more on some groups of people than on others."
        )
        if sensitive:
            fairness += (
                f" The inputs include {_list(sensitive)}, which may be protected characteristics: "
                "using them in decisions about people may be unlawful or need a documented reason."
            )
        limits.append(fairness)
        if self.v.origin == "uploaded":
            limits.append(
                "This version was fitted outside Steward and uploaded: Steward tested it on the same "
                "cases as its own versions, but cannot re-create it from the spec."
            )
        for warning in self.v.warnings:
            if warning.startswith("uploaded:"):
                continue
            limits.append(f"Training reported: {warning}")
        return Section("Known limits", (), tuple(limits))

    @staticmethod
    def _range_text(column: Mapping[str, Any]) -> str:
        low, high = column.get("min"), column.get("max")
        categories = column.get("categories")
        if categories:
            return "must be one of " + _list([str(c) for c in categories], 8)
        if low is not None and high is not None:
            return f"must be from {_bound(low)} to {_bound(high)}"
        return ""

    def build(self) -> ModelCard:
        predicts = self.what_it_predicts()
        data = self.what_it_learned_from()
        performance, figures = self.how_well()
        sections = [predicts, data, performance]
        relies = self.what_it_relies_on()
        if relies is not None:
            sections.append(relies)
        compared = self.compared()
        if compared is not None:
            sections.append(compared)
        sections.append(self.known_limits())
        owner = f" · owner {self.owner}" if self.owner else ""
        return ModelCard(
            title=f"{self.v.pipeline_name} {self.v.label}",
            subtitle=(
                f"{self.task.capitalize()} · trained {self.v.trained_at:%Y-%m-%d} by {self.v.trained_by}"
                f"{owner} · artifact {self.v.artifact_sha256[:12]}"
            ),
            summary=self.summary(),
            key_figures=tuple(figures),
            sections=tuple(sections),
        )

    def summary(self) -> str:
        """Two or three sentences a reviewer can read first, pointing to the limits."""
        metrics = self.v.metrics
        parts: list[str] = []
        auc, caught = metrics.get("roc_auc"), recall_of(self.v)
        if self.binary and auc is not None:
            parts.append(
                f"In short: in {_pct(auc)} of random pairs, {self.v.label} ranks the case with "
                f"{self.is_case(self.positive)} above the case with {self.is_case(self.negative)}"
                + (
                    f"; at the default cut-off it catches {_pct(caught)} of the "
                    f"{self.is_case(self.positive)} cases."
                    if caught is not None
                    else "."
                )
            )
        elif self.task == "classification" and metrics.get("accuracy") is not None:
            parts.append(
                f"In short: {self.v.label} picks the right value of {self.target} for "
                f"{_pct(float(metrics['accuracy'] or 0.0))} of the test cases."
            )
        elif self.task == "regression" and metrics.get("mae") is not None:
            r2 = metrics.get("r2")
            parts.append(
                f"In short: {self.v.label} estimates {self.target} with a typical miss of "
                f"{_num(float(metrics['mae'] or 0.0))}"
                + (f" and explains {_pct(r2)} of its variation." if r2 is not None and r2 >= 0 else ".")
            )
        else:
            parts.append(f"In short: {self.v.label} has no recorded hold-out figures.")
        if self.previous is not None:
            comparison = compare_versions(self.v, self.previous)
            where = "on the same test cases" if comparison.fair else "(on different test cases)"
            if comparison.current is None or comparison.previous is None:
                parts.append(f"It cannot be compared with {self.previous.label}: a figure is missing.")
            else:
                verdict = {True: "better than", False: "worse than", None: "level with"}[comparison.better]
                parts.append(
                    f"It is {verdict} {self.previous.label} on {metric_label(comparison.metric)} {where}."
                )
        parts.append("Read the known limits before relying on it.")
        return " ".join(parts)


def build_model_card(version: PipelineVersion, previous: PipelineVersion | None = None) -> ModelCard:
    """The card of ``version``; with ``previous`` (the version before it) it also says what changed."""
    return _CardBuilder(version, previous).build()


def spec_changed_since(spec_digest: str, version: PipelineVersion | None) -> bool:
    """True when the pipeline's current spec is not what ``version`` was trained from (train to catch up)."""
    return version is not None and version.spec_digest != spec_digest


def previous_version(versions: Sequence[PipelineVersion], version: PipelineVersion) -> PipelineVersion | None:
    """The version right before ``version`` among ``versions`` (any order), or None for the first."""
    earlier = [v for v in versions if v.pipeline_id == version.pipeline_id and v.number < version.number]
    return max(earlier, key=lambda v: v.number) if earlier else None


__all__ = [
    "METRIC_LABELS",
    "Comparison",
    "KeyFigure",
    "ModelCard",
    "Section",
    "allowed_values",
    "build_model_card",
    "calibration_gap",
    "compare_versions",
    "deployed_versions",
    "feature_label",
    "format_metric",
    "importance_chart_data",
    "is_better",
    "metric_label",
    "previous_version",
    "primary_metric",
    "recall_of",
    "spec_changed_since",
]
