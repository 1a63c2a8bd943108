"""Compare a production window with a reference profile: one report, one verdict.

Per column: the test (chosen by kind and size unless asked for), its
statistic, threshold, p-value where there is one, and drift true / false /
insufficient. Beside it, data-quality findings that never move the drift
verdict. The dataset verdict is one answer with its reason:

* ``fixed`` mode: effect sizes against documented thresholds on large
  samples, p-value tests on small ones; p-values are adjusted across columns
  (Benjamini-Hochberg), so many columns do not multiply false alarms.
* ``calibrated`` mode: each column's p-value comes from no-drift windows
  simulated from the reference at this window's size (``calibration``), and
  Benjamini-Hochberg across columns bounds the verdict's false-alarm rate by
  ``fdr``.

Features decide the verdict; prediction columns get a verdict of their own.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from steward.core.drift import calibration as cal
from steward.core.drift.kinds import ColumnKind, ColumnRole, ColumnSpec, Schema
from steward.core.drift.profile import ColumnProfile, Profile, build_profile, profile_column
from steward.core.drift.quality import QualityFinding, QualityThresholds, check_column, check_schema
from steward.core.drift.sketch import CategoricalSummary, NumericSummary
from steward.core.drift.stats import REGISTRY, DriftTest, NumericPair, Outcome, get_test, wasserstein_scale
from steward.core.errors import InvalidInput

Mode = Literal["fixed", "calibrated"]
Status = Literal["drift", "no_drift", "insufficient"]

# No verdict on fewer values than this (either side): "not enough data" instead.
MIN_ROWS = 30
# Below this effective size n*m/(n+m), numeric columns use KS: there the p-value
# is meaningful and an effect size is mostly noise.
KS_MAX_EFFECTIVE_N = 1000
# Categorical columns use chi-squared until there are this many effective rows
# per degree of freedom; then Jensen-Shannon's noise is under a third of 0.1.
CHI2_ROWS_PER_DOF = 200
_ABSENT = "not in the current data"


@dataclass(frozen=True)
class DriftOptions:
    """How to compare; every default is explained in docs/drift.md."""

    mode: Mode = "fixed"
    test: str | None = None  # one test for every column it applies to
    tests: Mapping[str, str] = field(default_factory=dict)  # per column
    thresholds: Mapping[str, float] = field(default_factory=dict)  # per test name
    min_rows: int = MIN_ROWS
    fdr: float = 0.05
    replicates: int | None = None  # calibrated mode; default from column count and fdr
    seed: int = 0
    grid_points: int = cal.DEFAULT_GRID_POINTS
    columns: Sequence[str] | None = None
    quality: QualityThresholds = field(default_factory=QualityThresholds)

    def __post_init__(self) -> None:
        if self.mode not in ("fixed", "calibrated"):
            raise InvalidInput(f"unknown mode {self.mode!r}; use 'fixed' or 'calibrated'")
        if not 0 < self.fdr < 1:
            raise InvalidInput(f"fdr must be between 0 and 1, got {self.fdr}")
        if self.min_rows < 1:
            raise InvalidInput(f"min_rows must be at least 1, got {self.min_rows}")
        if self.test is not None:
            get_test(self.test)
        for name in self.tests.values():
            get_test(name)
        for name in self.thresholds:
            get_test(name)
        if self.replicates is not None and self.replicates < 19:
            raise InvalidInput(f"replicates must be at least 19, got {self.replicates}")

    def settings(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "test": self.test,
            "tests": dict(self.tests),
            "thresholds": dict(self.thresholds),
            "min_rows": self.min_rows,
            "fdr": self.fdr,
            "replicates": self.replicates,
            "seed": self.seed,
        }


@dataclass(frozen=True)
class ColumnResult:
    """The drift finding for one column."""

    name: str
    kind: str
    role: str
    test: str | None
    statistic: float | None
    threshold: float | None
    threshold_on: str | None  # "statistic" or "adjusted_p_value"
    p_value: float | None
    adjusted_p_value: float | None
    drift: bool | None  # None: not enough data
    reason: str
    reference_values: int
    current_values: int
    exact: bool = True
    error_bound: float | None = 0.0
    false_alarm_rate: float | None = None
    null_quantile: float | None = None
    effect_size: float | None = None  # Jensen-Shannon distance, whatever the test: ranks columns

    @property
    def status(self) -> Status:
        if self.drift is None:
            return "insufficient"
        return "drift" if self.drift else "no_drift"

    def severity(self) -> float:
        """How far past (or short of) the threshold, comparable across tests: > 1 means drift."""
        if self.statistic is None or self.threshold is None:
            return 0.0
        if self.threshold_on == "adjusted_p_value":
            p = max(self.adjusted_p_value if self.adjusted_p_value is not None else 1.0, 1e-300)
            return math.log(p) / math.log(self.threshold) if p < 1 else 0.0
        return self.statistic / self.threshold if self.threshold > 0 else math.inf

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "role": self.role,
            "test": self.test,
            "statistic": _json_float(self.statistic),
            "threshold": _json_float(self.threshold),
            "threshold_on": self.threshold_on,
            "p_value": _json_float(self.p_value),
            "adjusted_p_value": _json_float(self.adjusted_p_value),
            "drift": "insufficient" if self.drift is None else self.drift,
            "status": self.status,
            "reason": self.reason,
            "reference_values": self.reference_values,
            "current_values": self.current_values,
            "exact": self.exact,
            "error_bound": _json_float(self.error_bound),
            "false_alarm_rate": _json_float(self.false_alarm_rate),
            "null_quantile": _json_float(self.null_quantile),
            "effect_size": _json_float(self.effect_size),
        }


@dataclass(frozen=True)
class Verdict:
    """One authoritative answer and why."""

    status: Status
    reason: str
    drifted: tuple[str, ...] = ()

    @property
    def drift(self) -> bool | None:
        return None if self.status == "insufficient" else self.status == "drift"

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "drift": "insufficient" if self.drift is None else self.drift,
            "reason": self.reason,
            "drifted_columns": list(self.drifted),
        }


@dataclass(frozen=True)
class DriftReport:
    """Everything one comparison found."""

    mode: Mode
    reference_rows: int
    current_rows: int
    verdict: Verdict
    columns: tuple[ColumnResult, ...]
    quality: tuple[QualityFinding, ...]
    not_monitored: tuple[tuple[str, str], ...]
    prediction_verdict: Verdict | None
    false_alarm_rate: float | None
    settings: Mapping[str, Any]

    def column(self, name: str) -> ColumnResult | None:
        for c in self.columns:
            if c.name == name:
                return c
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "verdict": self.verdict.to_dict(),
            "prediction_verdict": None
            if self.prediction_verdict is None
            else self.prediction_verdict.to_dict(),
            "false_alarm_rate": self.false_alarm_rate,
            "columns": [c.to_dict() for c in self.columns],
            "quality": [q.to_dict() for q in self.quality],
            "not_monitored": [{"name": n, "reason": r} for n, r in self.not_monitored],
            "settings": dict(self.settings),
        }


def _json_float(x: float | None) -> float | str | None:
    """JSON has no infinity or NaN: say it in words."""
    if x is None:
        return None
    if math.isnan(x):
        return None
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def effective_size(n: int, m: int) -> float:
    """n*m/(n+m): how much a two-sample comparison knows (the smaller side dominates)."""
    return n * m / (n + m) if n + m else 0.0


def default_test(
    kind: ColumnKind, reference_values: int, current_values: int, categories: int = 2
) -> DriftTest:
    """The documented default: a p-value test while samples are small, an effect size after."""
    n_e = effective_size(reference_values, current_values)
    if kind is ColumnKind.NUMERIC:
        return REGISTRY["ks"] if n_e < KS_MAX_EFFECTIVE_N else REGISTRY["wasserstein"]
    dof = max(categories - 1, 1)
    return REGISTRY["chi2"] if n_e < CHI2_ROWS_PER_DOF * dof else REGISTRY["jensenshannon"]


@dataclass
class _Pending:
    """A column's result before p-values are adjusted across columns."""

    spec: ColumnSpec
    test: DriftTest | None = None
    outcome: Outcome | None = None
    threshold: float | None = None
    p_value: float | None = None  # the p-value the decision uses
    reason: str = ""
    ref_values: int = 0
    cur_values: int = 0
    exact: bool = True
    error_bound: float | None = 0.0
    null_quantile: float | None = None
    effect: float | None = None
    insufficient: bool = False


def _choose_test(spec: ColumnSpec, ref: ColumnProfile, cur_values: int, options: DriftOptions) -> DriftTest:
    name = options.tests.get(spec.name) or options.test
    if name is not None:
        test = get_test(name)
        if spec.kind in test.kinds:
            return test
        if spec.name in options.tests:
            raise InvalidInput(f"test {name!r} does not apply to {spec.kind.value} column {spec.name!r}")
    if options.mode == "calibrated" and spec.kind is ColumnKind.NUMERIC:
        # Rank-based, so its resampled null holds even for heavy tails, where the
        # bootstrap of an area (Wasserstein) runs about a point optimistic.
        return REGISTRY["ks"]
    categories = len(ref.categorical.categories) if ref.categorical is not None else 2
    return default_test(spec.kind, ref.valid, cur_values, categories)


def _error_bound(test: DriftTest, ref: NumericSummary, cur: NumericSummary) -> float | None:
    err = ref.rank_error + cur.rank_error
    if err == 0:
        return 0.0
    if test.name == "ks":
        return err
    if test.name == "wasserstein":
        span = max(ref.max, cur.max) - min(ref.min, cur.min)
        return err * span / wasserstein_scale(ref)
    return None


def _effect_size(
    test: DriftTest, outcome: Outcome, data: NumericPair | tuple[CategoricalSummary, CategoricalSummary]
) -> float:
    """The Jensen-Shannon distance between the two distributions: one scale for every column and test.

    A p-value says how sure we are that something moved, not how far; ranking
    drifted columns needs how far, comparable between a KS column and a
    chi-squared one.
    """
    if test.name == "jensenshannon":
        return outcome.statistic
    js = REGISTRY["jensenshannon"]
    if isinstance(data, NumericPair):
        assert js.numeric is not None
        return js.numeric(data).statistic
    return js.run(*data).statistic


def _evaluate(
    spec: ColumnSpec,
    ref: ColumnProfile,
    cur: ColumnProfile,
    options: DriftOptions,
    replicates: int,
) -> _Pending:
    pending = _Pending(spec, ref_values=ref.valid, cur_values=cur.valid)
    if ref.valid < options.min_rows or cur.valid < options.min_rows:
        side = "reference" if ref.valid < options.min_rows else "current data"
        count = ref.valid if side == "reference" else cur.valid
        pending.insufficient = True
        pending.reason = f"not enough data: {count} values in the {side}, minimum {options.min_rows}"
        return pending
    test = _choose_test(spec, ref, cur.valid, options)
    pending.test = test
    if spec.kind is ColumnKind.NUMERIC:
        assert ref.numeric is not None and cur.numeric is not None
        pair = NumericPair(ref.numeric, cur.numeric)
        assert test.numeric is not None
        outcome = test.numeric(pair)
        pending.effect = _effect_size(test, outcome, pair)
        pending.exact = ref.numeric.exact and cur.numeric.exact
        pending.error_bound = _error_bound(test, ref.numeric, cur.numeric)
        if options.mode == "calibrated":
            rng = cal.column_rng(options.seed, spec.name)
            null = cal.calibrate_numeric(
                ref.numeric,
                test.name,
                cur.valid,
                replicates=replicates,
                rng=rng,
                grid_points=options.grid_points,
            )
            pending.p_value = null.null.p_value(null.observed(pair))
            pending.null_quantile = null.null.quantile(1 - options.fdr)
    else:
        assert ref.categorical is not None and cur.categorical is not None
        outcome = test.run(ref.categorical, cur.categorical)
        pending.effect = _effect_size(test, outcome, (ref.categorical, cur.categorical))
        if options.mode == "calibrated":
            rng = cal.column_rng(options.seed, spec.name)
            cnull = cal.calibrate_categorical(
                ref.categorical, test.name, cur.valid, replicates=replicates, rng=rng
            )
            pending.p_value = cnull.null.p_value(cnull.observed(ref.categorical, cur.categorical))
            pending.null_quantile = cnull.null.quantile(1 - options.fdr)
    pending.outcome = outcome
    if options.mode == "fixed":
        pending.threshold = options.thresholds.get(test.name, test.default_threshold)
        if test.threshold_on == "p_value":
            pending.p_value = outcome.p_value
    else:
        pending.threshold = options.fdr
    return pending


def _finish(pending: list[_Pending], options: DriftOptions) -> list[ColumnResult]:
    """Adjust p-values within each role, then decide each column."""
    adjusted: dict[int, float] = {}
    for role in ColumnRole:
        idx = [
            i
            for i, p in enumerate(pending)
            if p.spec.role is role and not p.insufficient and p.p_value is not None and _uses_p(p, options)
        ]
        for i, q in zip(idx, cal.benjamini_hochberg([pending[i].p_value or 0.0 for i in idx]), strict=True):
            adjusted[i] = q
    results = []
    for i, p in enumerate(pending):
        kind = p.spec.kind.value
        role_name = p.spec.role.value
        if p.insufficient or p.test is None or p.outcome is None:
            results.append(
                ColumnResult(
                    name=p.spec.name,
                    kind=kind,
                    role=role_name,
                    test=None,
                    statistic=None,
                    threshold=None,
                    threshold_on=None,
                    p_value=None,
                    adjusted_p_value=None,
                    drift=None,
                    reason=p.reason,
                    reference_values=p.ref_values,
                    current_values=p.cur_values,
                )
            )
            continue
        test, outcome = p.test, p.outcome
        assert p.threshold is not None
        if _uses_p(p, options):
            adj = adjusted[i]
            drift = adj < p.threshold
            threshold_on = "adjusted_p_value"
            why = f"adjusted p {adj:.3g} {'<' if drift else '>='} {p.threshold:g}"
        else:
            adj = None
            drift = test.drifted(outcome, p.threshold)
            threshold_on = "statistic"
            why = f"{test.name} {outcome.statistic:.4g} {'>' if drift else '<='} {p.threshold:g}"
        results.append(
            ColumnResult(
                name=p.spec.name,
                kind=kind,
                role=role_name,
                test=test.name,
                statistic=outcome.statistic,
                threshold=p.threshold,
                threshold_on=threshold_on,
                p_value=p.p_value if options.mode == "calibrated" else outcome.p_value,
                adjusted_p_value=adj,
                drift=drift,
                reason=why,
                reference_values=p.ref_values,
                current_values=p.cur_values,
                exact=p.exact,
                error_bound=p.error_bound,
                false_alarm_rate=options.fdr if options.mode == "calibrated" else None,
                null_quantile=p.null_quantile,
                effect_size=p.effect,
            )
        )
    return results


def _uses_p(p: _Pending, options: DriftOptions) -> bool:
    return options.mode == "calibrated" or (p.test is not None and p.test.threshold_on == "p_value")


def _verdict(results: Sequence[ColumnResult], current_rows: int, what: str, options: DriftOptions) -> Verdict:
    if current_rows == 0:
        return Verdict("insufficient", "the current data has no rows")
    checked = [r for r in results if r.drift is not None]
    unchecked = len(results) - len(checked)
    if not checked:
        if not results:
            return Verdict("insufficient", f"no {what} column to compare")
        if all(r.reason == _ABSENT for r in results):
            return Verdict("insufficient", f"none of the reference's {what} columns is in the current data")
        return Verdict(
            "insufficient",
            f"no {what} column has enough data (minimum {options.min_rows} values on each side)",
        )
    drifted = sorted((r for r in checked if r.drift), key=lambda r: -(r.effect_size or 0.0))
    note = f"; {unchecked} not checked for lack of data" if unchecked else ""
    guarantee = (
        f" (under no drift this verdict is wrong at most {options.fdr:g} of the time)"
        if options.mode == "calibrated"
        else ""
    )
    if drifted:
        shown = "; ".join(f"{r.name} ({r.reason})" for r in drifted[:3])
        more = f"; and {len(drifted) - 3} more" if len(drifted) > 3 else ""
        return Verdict(
            "drift",
            f"{len(drifted)} of {len(checked)} {what} columns drifted: {shown}{more}{note}",
            tuple(r.name for r in drifted),
        )
    closest = max(checked, key=lambda r: r.severity())
    return Verdict(
        "no_drift",
        f"none of {len(checked)} {what} columns drifted{guarantee}; "
        f"closest: {closest.name} ({closest.reason}){note}",
    )


def compare(
    reference: Profile,
    current: pd.DataFrame | Profile | Iterable[pd.DataFrame],
    options: DriftOptions | None = None,
) -> DriftReport:
    """Compare a window (a frame, a window profile, or frames read in chunks) with a reference profile.

    A frame is compared exactly; a profile (or chunks, which are profiled and
    merged) exactly while it holds at most ``max_points`` distinct values per
    column, and with the error bound reported per column above that.
    """
    options = options or DriftOptions()
    if not isinstance(current, pd.DataFrame | Profile):
        current = build_profile(current, schema=reference.schema, max_points=reference.max_points)
    specs = list(reference.schema.columns)
    if options.columns is not None:
        unknown = [c for c in options.columns if reference.schema.get(c) is None]
        if unknown:
            raise InvalidInput(f"column {unknown[0]!r} is not in the reference profile")
        specs = [s for s in specs if s.name in set(options.columns)]

    if isinstance(current, pd.DataFrame):
        names = [str(c) for c in current.columns]
        if len(set(names)) != len(names):
            dupes = sorted({n for n in names if names.count(n) > 1})
            raise InvalidInput(f"duplicate column names in the current data: {', '.join(dupes)}")
        by_name = dict(zip(names, current.columns, strict=True))
        current_rows = len(current)
        frame = current

        def current_column(spec: ColumnSpec) -> ColumnProfile | None:
            if spec.name not in by_name:
                return None
            return profile_column(frame[by_name[spec.name]], spec, for_storage=False)

    else:
        names = [c.name for c in current.columns] + list(current.extra_columns)
        current_rows = current.rows
        window = current

        def current_column(spec: ColumnSpec) -> ColumnProfile | None:
            col = window.column(spec.name)
            if col is not None and col.kind is not spec.kind:
                raise InvalidInput(
                    f"column {spec.name!r} is {col.kind.value} in the window profile "
                    f"but {spec.kind.value} in the reference: profile windows with the reference schema"
                )
            return col

    monitored = [s for s in specs if s.kind is not ColumnKind.UNSUPPORTED]
    replicates = options.replicates or cal.replicates_for(len(monitored), options.fdr)
    quality: list[QualityFinding] = []
    if current_rows == 0:
        quality.append(QualityFinding("empty", None, 0.0, 1.0, "the current data has no rows"))
    names_for_schema = names if options.columns is None else [n for n in names if n in set(options.columns)]
    schema_of_interest = reference.schema if options.columns is None else Schema(tuple(specs))
    ignored = set(reference.ignored_columns)
    quality += check_schema(schema_of_interest, [n for n in names_for_schema if n not in ignored])

    pending: list[_Pending] = []
    for spec in monitored:
        ref = reference.column(spec.name)
        assert ref is not None
        cur = current_column(spec)
        if cur is None:
            pending.append(_Pending(spec, reason=_ABSENT, ref_values=ref.valid, insufficient=True))
            continue
        if current_rows:
            quality += check_column(ref, cur, options.quality)
        pending.append(_evaluate(spec, ref, cur, options, replicates))

    results = _finish(pending, options)
    features = [r for r in results if r.role == ColumnRole.FEATURE.value]
    predictions = [r for r in results if r.role == ColumnRole.PREDICTION.value]
    settings = options.settings()
    if options.mode == "calibrated":
        settings["replicates"] = replicates
    return DriftReport(
        mode=options.mode,
        reference_rows=reference.rows,
        current_rows=current_rows,
        verdict=_verdict(features, current_rows, "feature", options),
        columns=tuple(results),
        quality=tuple(quality),
        not_monitored=tuple((s.name, s.reason) for s in specs if s.kind is ColumnKind.UNSUPPORTED),
        prediction_verdict=_verdict(predictions, current_rows, "prediction", options)
        if predictions
        else None,
        false_alarm_rate=options.fdr if options.mode == "calibrated" else None,
        settings=settings,
    )


def compare_frames(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    options: DriftOptions | None = None,
    *,
    kinds: Mapping[str, ColumnKind | str] | None = None,
    prediction_columns: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> DriftReport:
    """Convenience: profile the reference frame, then compare."""
    profile = build_profile(reference, kinds=kinds, prediction_columns=prediction_columns, exclude=exclude)
    return compare(profile, current, options)


__all__ = [
    "CategoricalSummary",
    "ColumnResult",
    "DriftOptions",
    "DriftReport",
    "Verdict",
    "compare",
    "compare_frames",
    "default_test",
]
