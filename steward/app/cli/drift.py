"""``steward drift``: compare a production file with a training file or profile.

Exit status: 0 when the comparison ran (whatever it found), 1 with
``--fail-on-drift`` when the verdict is drift, 2 on bad input (one line
``error: ...`` on stderr, no traceback).
"""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import click
import pandas as pd

from steward.app.errors import friendly
from steward.core.drift.io import DEFAULT_CHUNK_ROWS, is_profile_file, open_table, read_profile, write_profile
from steward.core.drift.kinds import ColumnKind
from steward.core.drift.profile import Profile, build_profile
from steward.core.drift.report import DriftOptions, DriftReport, compare
from steward.core.drift.stats import REGISTRY
from steward.core.errors import InvalidInput


def _split(values: Sequence[str]) -> list[str]:
    """Options given repeatedly or comma-separated."""
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def _thresholds(values: Sequence[str]) -> dict[str, float]:
    out = {}
    for item in _split(values):
        name, sep, number = item.partition("=")
        if not sep:
            raise InvalidInput(f"--threshold takes TEST=VALUE, got {item!r}")
        try:
            out[name.strip()] = float(number)
        except ValueError:
            raise InvalidInput(f"--threshold {item!r}: {number!r} is not a number") from None
    return out


def _kinds(values: Sequence[str]) -> dict[str, ColumnKind]:
    out = {}
    for item in _split(values):
        name, sep, kind = item.partition("=")
        try:
            out[name.strip()] = ColumnKind(kind.strip())
        except ValueError:
            raise InvalidInput(f"--kind takes COLUMN=numeric|categorical, got {item!r}") from None
        if not sep:
            raise InvalidInput(f"--kind takes COLUMN=numeric|categorical, got {item!r}")
    return out


def _is_profile(path: str) -> bool:
    return path.lower().endswith(".profile") or is_profile_file(path)


def _load_reference(
    path: str, chunk_rows: int, kinds: dict[str, ColumnKind], predictions: list[str], exclude: list[str]
) -> Profile:
    if _is_profile(path):
        return read_profile(path)
    source = open_table(path)
    return build_profile(
        source.iter_chunks(chunk_rows), kinds=kinds, prediction_columns=predictions, exclude=exclude
    )


def _load_current(path: str, reference: Profile, chunk_rows: int) -> pd.DataFrame | Profile:
    """One chunk: compared exactly in memory; more: profiled chunk by chunk, memory bounded."""
    if _is_profile(path):
        return read_profile(path)
    source = open_table(path)
    chunks: Iterator[pd.DataFrame] = source.iter_chunks(chunk_rows)
    first = next(chunks)
    second = next(chunks, None)
    if second is None:
        return first
    return build_profile(
        itertools.chain([first, second], chunks), schema=reference.schema, max_points=reference.max_points
    )


def _fmt(x: float | None) -> str:
    if x is None:
        return "-"
    if x == 0:
        return "0"
    return f"{x:.4g}"


def render_text(report: DriftReport) -> str:
    """A table a person can read in a terminal."""
    lines = [
        f"Drift report ({report.mode} mode): reference {report.reference_rows:,} rows, "
        f"current {report.current_rows:,} rows",
        "",
    ]
    header = ("column", "kind", "role", "test", "statistic", "threshold", "p-value", "effect", "drift")
    rows = [header]
    # Drifted columns first, largest effect (Jensen-Shannon distance) first: what moved most leads.
    ranked = sorted(report.columns, key=lambda c: (c.drift is not True, -(c.effect_size or 0.0)))
    for c in ranked:
        p = c.adjusted_p_value if c.adjusted_p_value is not None else c.p_value
        drift = "insufficient" if c.drift is None else ("DRIFT" if c.drift else "no")
        threshold = _fmt(c.threshold) + (" (adj. p)" if c.threshold_on == "adjusted_p_value" else "")
        rows.append(
            (
                c.name,
                c.kind,
                c.role,
                c.test or "-",
                _fmt(c.statistic),
                threshold,
                _fmt(p),
                _fmt(c.effect_size),
                drift,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for r in rows:
        lines.append("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
    notes = [c for c in report.columns if c.drift is None]
    if notes:
        lines += ["", "Not enough data:"] + [f"  - {c.name}: {c.reason}" for c in notes]
    if report.not_monitored:
        lines += ["", "Not monitored:"] + [f"  - {n}: {r}" for n, r in report.not_monitored]
    lines += ["", "Data quality:"]
    lines += [f"  - {q.message}" for q in report.quality] or ["  no findings"]
    lines += ["", f"Verdict: {report.verdict.status.upper().replace('_', ' ')}: {report.verdict.reason}"]
    if report.prediction_verdict is not None:
        pv = report.prediction_verdict
        lines.append(f"Predictions: {pv.status.upper().replace('_', ' ')}: {pv.reason}")
    return "\n".join(lines)


@click.command("drift")
@click.option(
    "--reference", "reference_path", required=True, help="Training data (CSV, Parquet) or a saved profile."
)
@click.option(
    "--current", "current_path", required=True, help="Production data (CSV, Parquet) or a window profile."
)
@click.option(
    "--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--mode", type=click.Choice(["fixed", "calibrated"]), default="fixed", show_default=True)
@click.option("--columns", multiple=True, help="Only these columns (comma-separated or repeated).")
@click.option("--exclude", multiple=True, help="Ignore these reference columns (ids, targets).")
@click.option("--prediction", multiple=True, help="Model output columns: judged apart from features.")
@click.option("--kind", "kinds", multiple=True, help="Override an inferred kind: COLUMN=numeric|categorical.")
@click.option("--test", type=click.Choice(sorted(REGISTRY)), default=None, help="One test for every column.")
@click.option("--threshold", "thresholds", multiple=True, help="Override a default: TEST=VALUE.")
@click.option(
    "--fdr", type=float, default=0.05, show_default=True, help="p-value level / false-discovery rate."
)
@click.option("--min-rows", type=int, default=30, show_default=True, help="No verdict on fewer values.")
@click.option("--replicates", type=int, default=None, help="Calibrated mode: simulated windows per column.")
@click.option("--seed", type=int, default=0, show_default=True, help="Calibrated mode: random seed.")
@click.option(
    "--chunk-rows",
    type=int,
    default=DEFAULT_CHUNK_ROWS,
    show_default=True,
    help="Rows read at a time; a larger current file is profiled chunk by chunk.",
)
@click.option(
    "--save-profile", type=click.Path(dir_okay=False), default=None, help="Write the reference profile."
)
@click.option("--fail-on-drift", is_flag=True, help="Exit 1 when the verdict is drift.")
@friendly
def drift_command(
    reference_path: str,
    current_path: str,
    output_format: str,
    mode: str,
    columns: tuple[str, ...],
    exclude: tuple[str, ...],
    prediction: tuple[str, ...],
    kinds: tuple[str, ...],
    test: str | None,
    thresholds: tuple[str, ...],
    fdr: float,
    min_rows: int,
    replicates: int | None,
    seed: int,
    chunk_rows: int,
    save_profile: str | None,
    fail_on_drift: bool,
) -> None:
    """Is the production data different from the training data?"""
    options = DriftOptions(
        mode="calibrated" if mode == "calibrated" else "fixed",
        test=test,
        thresholds=_thresholds(thresholds),
        min_rows=min_rows,
        fdr=fdr,
        replicates=replicates,
        seed=seed,
        columns=_split(columns) or None,
    )
    if chunk_rows < 1:
        raise InvalidInput(f"--chunk-rows must be at least 1, got {chunk_rows}")
    try:
        reference = _load_reference(
            reference_path, chunk_rows, _kinds(kinds), _split(prediction), _split(exclude)
        )
        if save_profile:
            write_profile(reference, save_profile)
        current = _load_current(current_path, reference, chunk_rows)
        report = compare(reference, current, options)
    except MemoryError:
        raise InvalidInput("out of memory; lower --chunk-rows") from None
    payload: Any = report.to_dict()
    if output_format == "json":
        click.echo(json.dumps(payload, indent=2, allow_nan=False))
    else:
        click.echo(render_text(report))
    if fail_on_drift and report.verdict.drift:
        sys.exit(1)
