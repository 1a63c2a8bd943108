"""The challenger against the champion on the same rows: shown on Approvals and on a version's card.

Called with one line from each page. On the Pipelines page it also offers
the form that runs a comparison (the service checks who may, at the
environment's tier) and, once one exists, the request to promote the
challenger where it was compared.
"""

from __future__ import annotations

from functools import partial

import streamlit as st

from steward.app.ui.charts_comparison import decision_diff_figure, metric_intervals_figure
from steward.app.ui.confirm import fresh, reset
from steward.app.ui.evidence import CHART_CONFIG
from steward.app.ui.guard import attempt
from steward.app.ui.text import md, when
from steward.core.domain.accounts import Actor
from steward.core.domain.head_to_head import HeadToHead
from steward.core.domain.pipelines_page import PipelinesPage
from steward.core.domain.promotions import PromotionRequest, RequestStatus
from steward.core.domain.registry import PipelineVersion
from steward.core.steward import Steward

IN_DATA_SET = "(in the data set)"


def render_head_to_head(h2h: HeadToHead | None, *, key: str) -> None:
    """The recorded comparison in words and two charts side by side; nothing when there is none."""
    if h2h is None:
        return
    st.markdown(
        f"**Challenger v{h2h.challenger_number} against serving v{h2h.champion_number} in "
        f"{md(h2h.environment_name)}**, on {md(h2h.where)}; compared by {md(h2h.compared_by)} "
        f"{when(h2h.compared_at)} (data set SHA-256 `{h2h.dataset_sha256[:12]}`)."
    )
    st.markdown("\n".join(f"- {md(m.sentence(), limit=600)}" for m in h2h.metrics) or "No metric in common.")
    left, right = st.columns(2)
    with left:
        st.plotly_chart(metric_intervals_figure(h2h), config=CHART_CONFIG, key=f"{key}_h2h_metrics")
    with right:
        if h2h.decisions.segments:
            st.plotly_chart(decision_diff_figure(h2h.decisions), config=CHART_CONFIG, key=f"{key}_h2h_diff")
        else:
            st.markdown(f"{h2h.decisions.changed:,} of {h2h.decisions.rows:,} answers change.")


def render_version_comparisons(
    steward: Steward, actor: Actor, view: PipelinesPage, version: PipelineVersion
) -> None:
    """A version's comparisons with what serves, the form to run one, and the request that follows."""
    st.markdown(f"#### {version.label} against the serving version, on the same rows")
    found = steward.head_to_head.of_version(version.pipeline_name, version.number)
    for h2h in found:
        with st.container(border=True):
            render_head_to_head(h2h, key=f"card_{h2h.id}")
            request_after_comparison(steward, actor, version, h2h)
    serving_where = sorted(
        {env for number, envs in view.deployed_in.items() if number != version.number for env in envs}
    )
    if not view.retrain_from:
        if not found:
            st.info("No comparison of this version yet. An operator or data scientist can run one here.")
        return
    if not serving_where or not view.production_datasets:
        st.caption("A comparison needs a version serving somewhere and a registered production data set.")
        return
    form = f"compare_{version.pipeline_name}_{version.number}"
    with st.form(form):
        st.caption(
            "Scores this version and the one serving in the environment on the same labelled production "
            "rows (rows either trained on are left out), with paired confidence intervals; the "
            "comparison is recorded, audited and read by that environment's champion gate."
        )
        c1, c2 = st.columns(2)
        environment = c1.selectbox("Against what serves in", serving_where, key=fresh(form, "cmp_env"))
        dataset = c2.selectbox(
            "Production data set", list(view.production_datasets), key=fresh(form, "cmp_ds")
        )
        c3, c4 = st.columns(2)
        labels = c3.selectbox("Labels", [IN_DATA_SET, *view.label_datasets], key=fresh(form, "cmp_labels"))
        id_column = c4.text_input("Id column (joins the labels)", key=fresh(form, "cmp_id"))
        if st.form_submit_button("Compare with the serving version", type="primary"):
            with st.spinner("Scoring both versions on the same rows…"):
                attempt(
                    partial(
                        steward.head_to_head.compare,
                        actor,
                        version.pipeline_name,
                        version.number,
                        str(environment),
                        dataset=str(dataset),
                        labels=None if labels == IN_DATA_SET else str(labels),
                        id_column=id_column.strip() or None,
                    ),
                    lambda h: _compared(form, h),
                )


def _compared(form: str, h2h: HeadToHead) -> str:
    reset(form)
    first = h2h.metrics[0].sentence() if h2h.metrics else "no metric in common"
    return f"Comparison #{h2h.id} recorded: {first}"


def request_after_comparison(
    steward: Steward, actor: Actor, version: PipelineVersion, h2h: HeadToHead
) -> None:
    """Ask for the compared version to serve where it was compared; the sign-off policy decides the rest."""
    form = f"request_{h2h.id}"
    reason = st.text_input(
        f"Why promote {version.label} to {h2h.environment_name} (the reviewers read this)",
        key=fresh(form, f"h2h_reason_{h2h.id}"),
        max_chars=4000,
    )

    def made(request: PromotionRequest) -> str:
        reset(form)
        if request.status is RequestStatus.EXECUTED:
            return f"{request.label}: deployed at once by {request.environment_name}'s policy"
        return f"Request #{request.id} made: {request.label}"

    if st.button(
        f"Request promotion of {version.label} to {h2h.environment_name}",
        key=fresh(form, f"h2h_req_{h2h.id}"),
    ):
        attempt(
            partial(
                steward.promotions.request,
                actor,
                version.pipeline_name,
                version.number,
                h2h.environment_name,
                reason.strip() or f"beats v{h2h.champion_number} on {h2h.where}",
            ),
            made,
        )
