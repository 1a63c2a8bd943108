"""Shadow and canary on the Deployments page: start one, watch it live, end it.

The rollout service decides everything (who may start, the sign-off a canary
needs, the SLA it is judged against); this panel only reads one watch and
offers the controls to people whose roles allow them.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from steward.app.ui.guard import attempt
from steward.app.ui.text import md, when
from steward.core.domain.accounts import Actor
from steward.core.domain.latency import latency_text
from steward.core.domain.permissions import Action, is_allowed
from steward.core.domain.promotions import Deployment
from steward.core.domain.rollouts import MAX_MINUTES, MAX_SHARE, MIN_SHARE, RolloutKind, RolloutWatch
from steward.core.services.rollouts import RolloutService
from steward.core.steward import Steward


def _render_watch(watch: RolloutWatch) -> None:
    r = watch.rollout
    st.markdown(
        f"**{md(r.kind.value.capitalize())} running** in **{md(r.environment_name)}**: "
        f"v{r.challenger_number} beside v{r.champion_number}"
        + (f", {r.share:.0%} of traffic" if r.share is not None else "")
        + f"; ends by itself {md(when(r.ends_at))}. Started by {md(r.started_by)}."
    )
    rows = []
    for name, arm in (("Champion", watch.champion), ("Challenger", watch.challenger)):
        rate = "—" if arm.error_rate is None else f"{arm.error_rate:.1%}"
        rows.append(
            {
                "Arm": f"{name} v{arm.version_number}",
                "Requests": arm.requests,
                "Errors": arm.errors,
                "Error rate": rate,
                "p50": latency_text(arm.p50_ms, missing="—"),
                "p95": latency_text(arm.p95_ms, missing="—"),
            }
        )
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    agreement = watch.agreement
    if agreement is not None:
        cols = st.columns(3)
        cols[0].metric("Agreement", "—" if agreement.rate is None else f"{agreement.rate:.1%}")
        cols[1].metric("Compared", f"{agreement.compared:,}")
        delta = agreement.mean_delta
        cols[2].metric("Mean difference", "—" if delta is None else f"{delta:+.4g}")
    st.caption(watch.verdict)


def _start_form(steward: Steward, actor: Actor, deployment: Deployment) -> None:
    others = [v.number for v in steward.pipelines.versions(deployment.pipeline_name)]
    others = [n for n in sorted(others, reverse=True) if n != deployment.version_number]
    if not others:
        st.caption("No other version of this pipeline to try beside the champion.")
        return
    key = f"rollout_{deployment.environment_name}_{deployment.pipeline_name}"
    with st.form(key):
        kind = RolloutKind(
            st.radio(
                "Kind",
                [k.value for k in RolloutKind],
                horizontal=True,
                key=f"{key}_kind",
                help="Shadow: scores the same requests, answers nobody. Canary: answers a share of callers.",
            )
        )
        version = st.selectbox("Challenger version", others, key=f"{key}_version")
        share = st.slider(
            "Canary share of traffic",
            MIN_SHARE,
            MAX_SHARE,
            0.1,
            0.01,
            key=f"{key}_share",
            help="Used by a canary only; callers are kept on one version by their routing key.",
        )
        minutes = st.number_input("Minutes before it ends", 1, MAX_MINUTES, 60, key=f"{key}_minutes")
        reason = st.text_input("Reason", key=f"{key}_reason")
        if st.form_submit_button("Start"):
            attempt(
                lambda: RolloutService(steward.ctx).start(
                    actor,
                    kind,
                    deployment.environment_name,
                    deployment.pipeline_name,
                    int(version),
                    minutes=float(minutes),
                    share=float(share) if kind is RolloutKind.CANARY else None,
                    reason=reason,
                ),
                lambda r: f"rollout #{r.id} started: {r.label}",
            )


def render_rollouts(steward: Steward, actor: Actor, serving: list[Deployment]) -> None:
    """The "Shadow and canary" section for one chosen deployment (hidden from who may not deploy)."""
    usable = [d for d in serving if is_allowed(actor.roles, Action.EXECUTE_PROMOTION, d.tier)]
    if not usable:
        return
    st.subheader("Shadow and canary")
    st.caption(
        "A shadow scores the same requests as the champion and is never returned; a canary answers a "
        "share of callers and is rolled back by itself when its errors or latency breach the SLA. A canary "
        "where sign-off is required needs the version's promotion request with its sign-offs complete."
    )
    labels = {f"{d.environment_name} · {d.pipeline_name}": d for d in usable}
    chosen = st.selectbox("Deployment for a shadow or canary", list(labels), key="rollout_choice")
    deployment = labels[str(chosen)]
    service = RolloutService(steward.ctx)
    history = service.list(deployment.environment_name, deployment.pipeline_name, limit=10)
    current = next((r for r in history if r.status.value == "active"), None)
    if current is not None:
        _render_watch(service.watch(current.id))
        if is_allowed(actor.roles, Action.ROLLBACK, deployment.tier):
            reason = st.text_input("Reason to end it", key=f"rollout_end_reason_{current.id}")
            if st.button(f"End the {current.kind.value}", key=f"rollout_end_{current.id}"):
                attempt(
                    lambda: service.end(actor, current.id, reason),
                    lambda r: f"rollout #{r.id} ended: v{r.champion_number} alone serves again",
                )
    else:
        _start_form(steward, actor, deployment)
    past = [r for r in history if r is not current]
    if past:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "#": r.id,
                        "Kind": r.kind.value,
                        "Challenger": f"v{r.challenger_number}",
                        "Status": r.status.value.replace("_", " "),
                        "Ended": when(r.ended_at) if r.ended_at else "",
                        "Why": r.end_reason,
                    }
                    for r in past
                ]
            ),
            hide_index=True,
        )
