"""Distribution overlays for the Drift page, computed from profiles (the browser never gets raw rows)."""

from __future__ import annotations

from typing import Any

import numpy as np

from steward.core.drift.profile import ColumnProfile

GRID_POINTS = 200


def numeric_overlay(
    reference: ColumnProfile, current: ColumnProfile, bins: int = 30
) -> dict[str, Any] | None:
    """Shares per bin and ECDFs of both sides on one grid; bins span the reference's 0.5-99.5% range."""
    ref, cur = reference.numeric, current.numeric
    if ref is None or cur is None or ref.total == 0 or cur.total == 0:
        return None
    ref_weights = ref.counts if ref.counts is not None else np.ones(len(ref.values))
    cur_weights = cur.counts if cur.counts is not None else np.ones(len(cur.values))
    cumulative = np.cumsum(ref_weights) / ref_weights.sum()
    last = len(ref.values) - 1
    low = float(ref.values[min(int(np.searchsorted(cumulative, 0.005)), last)])
    high = float(ref.values[min(int(np.searchsorted(cumulative, 0.995)), last)])
    if high <= low:  # (nearly) constant reference: span both sides instead
        low = min(float(ref.values.min()), float(cur.values.min()))
        high = max(float(ref.values.max()), float(cur.values.max()), low + 1.0)
    edges = np.linspace(low, high, bins + 1)
    ref_hist, _ = np.histogram(np.clip(ref.values, low, high), bins=edges, weights=ref_weights)
    cur_hist, _ = np.histogram(np.clip(cur.values, low, high), bins=edges, weights=cur_weights)
    grid = np.linspace(
        min(float(ref.values.min()), float(cur.values.min())),
        max(float(ref.values.max()), float(cur.values.max())),
        GRID_POINTS,
    )
    return {
        "edges": edges.round(6).tolist(),
        "reference_share": (ref_hist / max(ref_hist.sum(), 1)).round(6).tolist(),
        "current_share": (cur_hist / max(cur_hist.sum(), 1)).round(6).tolist(),
        "grid": grid.round(6).tolist(),
        "reference_ecdf": (ref.count_at_or_below(grid) / ref.total).round(6).tolist(),
        "current_ecdf": (cur.count_at_or_below(grid) / cur.total).round(6).tolist(),
    }


def categorical_overlay(
    reference: ColumnProfile, current: ColumnProfile, top: int = 20
) -> dict[str, Any] | None:
    """Share of each category on both sides, the most common (on either side) first; the rest pooled."""
    ref, cur = reference.categorical, current.categorical
    if ref is None or cur is None:
        return None
    ref_map, cur_map = ref.as_mapping(), cur.as_mapping()
    ref_total, cur_total = max(sum(ref_map.values()), 1), max(sum(cur_map.values()), 1)
    keys = sorted(
        set(ref_map) | set(cur_map),
        key=lambda k: -max(ref_map.get(k, 0) / ref_total, cur_map.get(k, 0) / cur_total),
    )
    shown, rest = keys[:top], keys[top:]
    categories = [*shown, *(["(other)"] if rest else [])]
    ref_share = [ref_map.get(k, 0) / ref_total for k in shown]
    cur_share = [cur_map.get(k, 0) / cur_total for k in shown]
    if rest:
        ref_share.append(sum(ref_map.get(k, 0) for k in rest) / ref_total)
        cur_share.append(sum(cur_map.get(k, 0) for k in rest) / cur_total)
    return {
        "categories": categories,
        "reference_share": [round(x, 6) for x in ref_share],
        "current_share": [round(x, 6) for x in cur_share],
        "unseen": [k for k in shown if k not in ref_map],
    }
