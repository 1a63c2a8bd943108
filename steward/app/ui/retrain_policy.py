"""A pipeline's retrain policy on the Pipelines page: what it says, what it ran, and the form to set it.

Called with one line from the Retrain tab. The service checks who may set
it (like a retrain on the chosen data set) and audits every change.
"""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from steward.app.ui.guard import attempt
from steward.app.ui.text import md, plain, when
from steward.core.domain.accounts import Actor
from steward.core.domain.pipelines_page import PipelinesPage
from steward.core.domain.retrain_policies import RetrainPolicy
from steward.core.steward import Steward

IN_DATA_SET, NO_REQUEST = "(in the data set)", "(none: only register the version)"
METRICS = ("(none)", "rmse", "mae", "r2", "accuracy", "roc_auc", "f1")


def render_retrain_policy(steward: Steward, actor: Actor, pipeline: str, view: PipelinesPage) -> None:
    st.markdown("#### Retrain by policy")
    current = steward.retrain_policies.get(pipeline)
    if current is None:
        st.caption("No retrain policy: this pipeline retrains only when someone clicks Retrain.")
    else:
        st.markdown(
            f"**Policy:** {md(current.describe())} "
            f"(set by {md(current.updated_by)} {when(current.updated_at)})"
        )
        runs = steward.retrain_policies.runs(pipeline)
        if runs:
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "Started": when(r.started_at),
                            "Status": r.status,
                            "Why": plain(r.reason),
                            "Version": f"v{r.version_number}" if r.version_number else "",
                            "Promotion": plain(r.promotion_note),
                            "Error": plain(r.error),
                        }
                        for r in runs
                    ]
                ),
                hide_index=True,
            )
        else:
            st.caption("It has not fired yet. The worker looks at every policy each quarter of an hour.")
    if not view.production_datasets:
        return
    with st.form(f"retrain_policy_{pipeline}"):
        st.caption(
            "Fires when any condition holds; a retrain registers a new version and at most requests a "
            "promotion, which the environment's sign-off policy then decides. Leave a condition at 0 "
            "(or none) to turn it off."
        )
        defaults = _defaults(current, view)
        c1, c2, c3 = st.columns(3)
        dataset = c1.selectbox(
            "Retrain on", list(view.production_datasets), index=defaults["dataset"], key="rp_dataset"
        )
        labels_choices = [IN_DATA_SET, *view.label_datasets]
        labels = c2.selectbox("Labels", labels_choices, index=defaults["labels"], key="rp_labels")
        id_column = c3.text_input(
            "Id column", value=(current.id_column or "") if current else "", key="rp_id"
        )
        c4, c5, c6, c7 = st.columns(4)
        windows = c4.number_input(
            "Drift in the last N windows", 0, 100, defaults["windows"], key="rp_windows"
        )
        metric = c5.selectbox("Realised metric", METRICS, index=defaults["metric"], key="rp_metric")
        threshold = c6.number_input(
            "crosses", value=float(current.threshold or 0.0) if current else 0.0, key="rp_threshold"
        )
        every = c7.number_input("Every N hours", 0, 24 * 366, defaults["every"], key="rp_every")
        targets = [
            NO_REQUEST,
            *sorted({e for envs in view.deployed_in.values() for e in envs} | set(view.retrain_from)),
        ]
        request_to = st.selectbox("Then request promotion to", targets, key="rp_request_to")
        paused = st.checkbox("Paused", value=bool(current and not current.enabled), key="rp_paused")
        if st.form_submit_button("Save the retrain policy", type="primary"):
            chosen_metric = None if metric == METRICS[0] else str(metric)
            attempt(
                partial(
                    steward.retrain_policies.set,
                    actor,
                    pipeline,
                    dataset=str(dataset),
                    labels=None if labels == IN_DATA_SET else str(labels),
                    id_column=id_column.strip() or None,
                    drift_windows=int(windows) or None,
                    metric=chosen_metric,
                    threshold=float(threshold) if chosen_metric else None,
                    every_hours=int(every) or None,
                    request_to=None if request_to == NO_REQUEST else str(request_to),
                    enabled=not paused,
                ),
                lambda p: f"Retrain policy saved: {p.describe()}",
            )


def _defaults(current: RetrainPolicy | None, view: PipelinesPage) -> dict[str, int]:
    """Widget positions that show the stored policy (or a first sensible one)."""
    datasets, label_sets = list(view.production_datasets), list(view.label_datasets)
    if current is None:
        return {"dataset": 0, "labels": 0, "windows": 2, "metric": 0, "every": 0}
    return {
        "dataset": datasets.index(current.dataset) if current.dataset in datasets else 0,
        "labels": label_sets.index(current.labels) + 1 if current.labels in label_sets else 0,
        "windows": int(current.drift_windows or 0),
        "metric": METRICS.index(current.metric) if current.metric in METRICS else 0,
        "every": int(current.every_hours or 0),
    }
