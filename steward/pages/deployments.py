"""Deployments: what serves where and since when, the ledger and its timeline; request, deploy, roll back.

Thin on purpose: every decision (may this run, is it stale, do the gates
pass) is made by ``steward.promotions`` / ``steward.deployments``, which check
permissions themselves; the controls are only hidden from people who may not
use them.
"""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from steward.app.ui.charts_deployments import timeline_figure
from steward.app.ui.confirm import fresh
from steward.app.ui.deployment_controls import (
    REQUEST_FORM,
    deploy_control,
    render_operations,
    request_form,
    rollback_control,
)
from steward.app.ui.evidence import CHART_CONFIG, missing_phrase, render_evidence
from steward.app.ui.guard import attempt, require
from steward.app.ui.rollout_panel import render_rollouts
from steward.app.ui.rule_set_editor import render_rule_set_editor
from steward.app.ui.text import md, plain, when
from steward.core.domain.permissions import Action, Tier, is_allowed
from steward.core.domain.promotions import LedgerEntry, LedgerKind, RequestStatus, certificate_file_name

page = require(Action.VIEW_DEPLOYMENTS)
steward, actor = page.steward, page.actor
st.title("Deployments")
st.caption(
    "Each environment has its own deployment per pipeline. A version reaches an environment only "
    "through the one before it, with the sign-offs and gates that environment asks for."
)


ENTRY, NEXT_ENTRY = "ledger_entry", "ledger_entry_next"


def show_entry(entry: LedgerEntry) -> str:
    """After the rerun, select the ledger entry an action just wrote (its certificate is one click away)."""
    st.session_state[NEXT_ENTRY] = entry.id
    where = f"{entry.pipeline_name} {entry.label} now serves in {entry.environment_name}"
    return f"{where} (ledger entry #{entry.id})"


def may(action: Action, tier: Tier) -> bool:
    return is_allowed(actor.roles, action, tier)


environments = steward.environments.list()
order = [env.name for env in environments]
policies = {policy.environment: policy for policy in steward.promotions.policies()}
serving = steward.deployments.serving()
ledger = steward.deployments.ledger()
pending = list(reversed(steward.promotions.list(status=RequestStatus.PENDING)))
now = steward.ctx.clock.now()

# ---- what serves now ------------------------------------------------------------------------
st.subheader("Serving now")
columns = st.columns(max(len(environments), 1))
for env, column in zip(environments, columns, strict=False):
    policy = policies[env.name]
    with column:
        st.markdown(f"**{md(env.name)}** · {env.tier.value} tier")
        here = [d for d in serving if d.environment_id == env.id]
        if not here:
            st.caption("Nothing serves here yet.")
        for deployment in here:
            fallback = (
                f"fallback v{deployment.fallback_number}" if deployment.fallback_number else "no fallback yet"
            )
            st.markdown(f"{md(deployment.pipeline_name)} **v{deployment.version_number}** · {fallback}")
        signoff = policy.signoff.describe()
        how = "deploys itself when the gates pass" if policy.signoff.auto_execute else "an operator deploys"
        st.caption(f"Sign-off: {md(signoff)}; {how}.")

if serving:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Environment": plain(d.environment_name),
                    "Pipeline": plain(d.pipeline_name),
                    "Serving": f"v{d.version_number}",
                    "Fallback armed": f"v{d.fallback_number}" if d.fallback_number else "none",
                    "Since": when(d.since),
                    "Decided by": plain(d.decided_by),
                    "Approved by": plain(", ".join(d.approved_by)) or "no sign-off needed",
                    "Ledger entry": d.ledger_entry_id,
                }
                for d in serving
            ]
        ),
        hide_index=True,
    )
    st.plotly_chart(timeline_figure(ledger, now, order), config=CHART_CONFIG, key="timeline")
else:
    st.info("Nothing is deployed yet. Versions reach Dev, then Test, then Prod through promotion requests.")
render_operations(steward, actor, serving)  # fail over and back, load tests
render_rollouts(steward, actor, serving)  # shadow and canary: start, watch, end
render_rule_set_editor(steward, actor, serving)  # the fallback rule set: edit, arm, fail over to it

# ---- requests in flight --------------------------------------------------------------------
st.subheader("Promotion requests in flight")
if not pending:
    st.caption("No request is waiting.")
else:
    evidences = {request.id: steward.promotions.evidence(request.id) for request in pending}
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Request": f"#{r.id}",
                    "What": plain(f"{r.pipeline_name} v{r.version_number} to {r.environment_name}"),
                    "Asked by": plain(r.requested_by_name),
                    "When": when(r.requested_at),
                    "Status": plain(missing_phrase(evidences[r.id])),
                    "Reason": plain(r.reason, limit=200),
                }
                for r in pending
            ]
        ),
        hide_index=True,
    )
    deployable = [r for r in pending if may(Action.EXECUTE_PROMOTION, r.tier)]
    if deployable:
        ready = [r for r in deployable if evidences[r.id].ready]
        st.markdown("**Deploy**" + ("" if ready else ": none of the requests you may deploy is ready yet."))
        if ready:
            chosen = st.selectbox(
                "Ready to deploy",
                [r.id for r in ready],
                format_func=lambda i: next(
                    f"#{r.id} {r.pipeline_name} v{r.version_number} to {r.environment_name}"
                    for r in ready
                    if r.id == i
                ),
                key="deploy_choice",
            )
            request = next(r for r in ready if r.id == chosen)
            with st.expander("Evidence", expanded=False, key=f"deploy_evidence_{request.id}"):
                render_evidence(evidences[request.id], key=f"deploy_{request.id}", charts=False)
            champion = evidences[request.id].champion
            deploy_control(
                steward, actor, request, champion.number if champion else None, show_entry, key="deploy"
            )
    mine = [r for r in pending if r.requested_by == actor.username]
    if mine:
        with st.expander("Withdraw one of your requests", key="withdraw_expander"):
            withdraw = st.selectbox(
                "Your request",
                [r.id for r in mine],
                format_func=lambda i: next(f"#{r.id} {r.label}" for r in mine if r.id == i),
                key="withdraw_choice",
            )
            target = next(r for r in mine if r.id == withdraw)
            if st.button("Withdraw", key="withdraw"):
                attempt(
                    lambda: steward.promotions.withdraw(actor, target.id, expected_version=target.version),
                    lambda r: f"Request #{r.id} withdrawn",
                )

# ---- request a promotion ---------------------------------------------------------------------
if any(may(Action.REQUEST_PROMOTION, env.tier) for env in environments):
    with st.expander(
        "Request a promotion",
        expanded=not pending and not serving,
        key=fresh(REQUEST_FORM, "request_expander"),  # a made request folds it away
    ):
        request_form(steward, actor, policies, order)

# ---- the ledger ----------------------------------------------------------------------------
st.subheader("Ledger")
if not ledger:
    st.caption("Nothing has been deployed yet.")
else:
    f1, f2 = st.columns(2)
    env_filter = f1.selectbox("Show environment", ["all", *order], key="ledger_env")
    pipeline_filter = f2.selectbox(
        "Show pipeline", ["all", *sorted({e.pipeline_name for e in ledger})], key="ledger_pipeline"
    )
    shown = [
        e
        for e in ledger
        if env_filter in ("all", e.environment_name) and pipeline_filter in ("all", e.pipeline_name)
    ]

    def approvers(entry: LedgerEntry) -> str:
        names = [f"{name} ({role.label.lower()})" for name, role in entry.counted_signers]
        return ", ".join(names) or "no sign-off needed"

    st.dataframe(
        pd.DataFrame(
            [
                {
                    "#": e.id,
                    "When": when(e.occurred_at),
                    "Environment": plain(e.environment_name),
                    "Pipeline": plain(e.pipeline_name),
                    "Version": e.label,
                    "Replaced": f"v{e.previous_number}" if e.previous_number else "-",
                    "How": e.kind.value
                    + (f" to #{e.rollback_to_entry_id}" if e.rollback_to_entry_id else ""),
                    "By": plain(e.actor_name),
                    "Approved by": plain(approvers(e)),
                    "Why": plain(e.reason, limit=200),
                    "Served until": when(e.ended_at) if e.ended_at else "serving",
                }
                for e in shown
            ]
        ),
        hide_index=True,
    )
    if (
        NEXT_ENTRY in st.session_state
    ):  # an action before the rerun asked for it; a drawn widget's key is fixed
        st.session_state[ENTRY] = st.session_state.pop(NEXT_ENTRY)
    chosen_id = st.selectbox(
        "Entry",
        [e.id for e in shown],
        format_func=lambda i: next(
            f"#{e.id} {e.environment_name}: {e.pipeline_name} {e.label} "
            f"({e.kind.value}, {when(e.occurred_at)})"
            for e in shown
            if e.id == i
        ),
        key=ENTRY,
    )
    entry = next((e for e in shown if e.id == chosen_id), None)
    if entry is not None:
        if entry.kind is LedgerKind.PROMOTION:
            c1, c2, _ = st.columns([1, 1, 2])
            c1.download_button(
                "Release certificate (HTML)",
                data=partial(steward.promotions.certificate_html, entry.id),
                file_name=certificate_file_name(entry, "html"),
                mime="text/html",
                on_click="ignore",
                key=f"cert_html_{entry.id}",
            )
            c2.download_button(
                "Release certificate (PDF)",
                data=partial(steward.promotions.certificate_pdf, entry.id),
                file_name=certificate_file_name(entry, "pdf"),
                mime="application/pdf",
                on_click="ignore",
                key=f"cert_pdf_{entry.id}",
            )
        current = next(
            (
                d
                for d in serving
                if d.environment_id == entry.environment_id and d.pipeline_id == entry.pipeline_id
            ),
            None,
        )
        if (
            current is not None
            and current.version_id != entry.version_id
            and may(Action.ROLLBACK, entry.tier)
        ):
            rollback_control(steward, actor, entry, current, show_entry)
        elif current is not None and current.version_id == entry.version_id:
            st.caption(f"{md(entry.label)} serves {md(entry.environment_name)} now.")
