"""Data-quality findings, kept apart from drift.

A column that suddenly holds text, or is empty, is broken, not drifted: each
check has its own threshold and its own finding, and none of them moves the
drift verdict. Thresholds allow for what a no-drift window shows by chance
(values beyond a small reference's range, categories too rare to be seen in
training), so a finding means something changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from steward.core.drift.kinds import Schema
from steward.core.drift.profile import ColumnProfile
from steward.core.drift.stats import align_categories


@dataclass(frozen=True)
class QualityThresholds:
    """Cut-offs for each check; the doc explains each default."""

    # Missing share may rise this much above the reference's before it is a finding.
    missing_increase: float = 0.05
    # Values that are not of the column's kind: any is a finding.
    type_error_share: float = 0.0
    # Infinite values: any share above the reference's is a finding.
    non_finite_increase: float = 0.0
    # Values outside the training range: at least this share, and at least three
    # times what a no-drift window shows (2 / (n + 1) of its values).
    out_of_range_share: float = 0.01
    # Rows in categories never seen in training: at least this share, and three
    # times the Good-Turing chance of meeting an unseen category (singletons / n).
    new_category_share: float = 0.01


@dataclass(frozen=True)
class QualityFinding:
    """One broken expectation: which check, where, how much, against what threshold."""

    check: str
    column: str | None
    value: float
    threshold: float
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "column": self.column,
            "value": self.value,
            "threshold": self.threshold,
            "message": self.message,
        }


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def check_schema(reference: Schema, current_columns: Sequence[str]) -> list[QualityFinding]:
    """Columns the model expects but the data lacks, and columns nobody expects."""
    current = set(current_columns)
    expected = set(reference.names)
    findings = [
        QualityFinding(
            "missing_column", name, 1.0, 0.0, f"column {name!r} is in the reference but not in the data"
        )
        for name in reference.names
        if name not in current
    ]
    findings += [
        QualityFinding(
            "extra_column", name, 1.0, 0.0, f"column {name!r} is in the data but not in the reference"
        )
        for name in current_columns
        if name not in expected
    ]
    return findings


def check_column(
    reference: ColumnProfile,
    current: ColumnProfile,
    thresholds: QualityThresholds | None = None,
) -> list[QualityFinding]:
    """Quality findings for one column of a window against its reference profile."""
    t = thresholds or QualityThresholds()
    name = current.name
    findings: list[QualityFinding] = []
    rows = current.rows
    if rows == 0:
        return findings

    ref_missing = _share(reference.missing, reference.rows)
    missing = _share(current.missing, rows)
    limit = min(ref_missing + t.missing_increase, 1.0)
    if missing > limit or (missing == 1.0 and ref_missing < 1.0):
        what = "all values are missing" if missing == 1.0 else f"{_pct(missing)} of values are missing"
        findings.append(
            QualityFinding(
                "missing_share", name, missing, limit, f"{name}: {what} (reference {_pct(ref_missing)})"
            )
        )

    errors = _share(current.type_errors, rows)
    if errors > t.type_error_share:
        kind = reference.kind.value
        findings.append(
            QualityFinding(
                "type_errors",
                name,
                errors,
                t.type_error_share,
                f"{name}: {current.type_errors} values ({_pct(errors)}) are not {kind} values",
            )
        )

    ref_inf = _share(reference.pos_inf + reference.neg_inf, reference.rows)
    inf = _share(current.pos_inf + current.neg_inf, rows)
    if inf > ref_inf + t.non_finite_increase:
        findings.append(
            QualityFinding(
                "non_finite",
                name,
                inf,
                ref_inf + t.non_finite_increase,
                f"{name}: {current.pos_inf + current.neg_inf} infinite values ({_pct(inf)})",
            )
        )

    rn, cn = reference.numeric, current.numeric
    if rn is not None and cn is not None and rn.total and cn.total:
        below = float(cn.count_below(np.array([rn.min]))[0])
        above = cn.total - float(cn.count_at_or_below(np.array([rn.max]))[0])
        share = (below + above) / cn.total
        limit = max(t.out_of_range_share, 3 * 2 / (rn.total + 1))
        if share > limit:
            findings.append(
                QualityFinding(
                    "out_of_range",
                    name,
                    share,
                    limit,
                    f"{name}: {_pct(share)} of values outside the training range "
                    f"[{rn.min:.6g}, {rn.max:.6g}] ({int(below)} below, {int(above)} above)",
                )
            )

    rc, cc = reference.categorical, current.categorical
    if rc is not None and cc is not None and rc.total and cc.total:
        ref_counts, cur_counts, n_new = align_categories(rc, cc)
        if n_new:
            k = ref_counts.size - n_new
            new_rows = int(cur_counts[k:].sum())
            share = new_rows / cc.total
            limit = max(t.new_category_share, 3 * rc.singletons() / rc.total)
            if share > limit:
                index = {key: i for i, key in enumerate(cc.categories)}
                new_keys = [key for key in cc.categories if key not in set(rc.categories)]
                new_keys.sort(key=lambda key: -int(cc.counts[index[key]]))
                shown = ", ".join(f"{key!r} ({int(cc.counts[index[key]])})" for key in new_keys[:5])
                more = f" and {len(new_keys) - 5} more" if len(new_keys) > 5 else ""
                findings.append(
                    QualityFinding(
                        "new_categories",
                        name,
                        share,
                        limit,
                        f"{name}: {_pct(share)} of rows in {n_new} categories never seen in training: "
                        f"{shown}{more}",
                    )
                )
    return findings
