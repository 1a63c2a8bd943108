"""The sign-off policy editor for the Admin page: who must approve, for how long, which gates apply.

Call :func:`render_policy_editor` inside the Admin page's tab. Saving goes
through ``steward.promotions.set_policy``, which checks the admin right,
validates, detects an edit from a stale page and audits before and after.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pandas as pd
import streamlit as st

from steward.app.ui.guard import attempt, flash
from steward.app.ui.text import md, plain, when
from steward.core.domain.accounts import Actor
from steward.core.domain.gates import GatePolicy
from steward.core.domain.metrics import TRAINING_METRICS, higher_is_better, metric_phrase
from steward.core.domain.policy_rules import PolicyChange
from steward.core.domain.promotions import EnvironmentPolicy
from steward.core.domain.signoff import APPROVER_ORDER, MAX_PER_ROLE, SignoffPolicy
from steward.core.errors import StewardError
from steward.core.steward import Steward

KEY = "policy_editor"


def _gates_text(policy: EnvironmentPolicy) -> str:
    return "; ".join(policy.gates.describe()) or "none"


def policy_table(policies: list[EnvironmentPolicy]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Environment": plain(p.environment),
                "Tier": p.tier.value,
                "Sign-off": plain(p.signoff.describe()),
                "Approvals valid for": f"{int(p.signoff.approval_ttl.total_seconds() // 3600)} h",
                "Deploys itself": "yes" if p.signoff.auto_execute else "no",
                "Gates": plain(_gates_text(p)),
                "Changed": f"{when(p.updated_at)} by {p.updated_by}" if p.updated_at else "tier default",
            }
            for p in policies
        ]
    )


def render_policy_changes(steward: Steward, actor: Actor) -> None:
    """Proposed lowerings of production policies: a second admin approves or rejects each (four eyes)."""
    pending = steward.promotions.policy_changes(pending_only=True)
    if not pending:
        return
    st.markdown("**Waiting for a second admin**")
    st.caption(
        "A change that makes a production policy easier to satisfy applies only once another admin "
        "approves it; whoever proposed it can withdraw it."
    )
    for change in pending:
        with st.container(border=True):
            st.markdown(
                f"Change #{change.id} to **{md(change.environment)}**, proposed by {md(change.proposed_by)} "
                f"on {when(change.proposed_at)} (lapses {when(change.expires_at)}): it would ask for "
                f"{md(change.signoff.describe())}."
            )
            for line in change.lowers:
                st.markdown(f"- {md(line)}")
            if change.reason:
                st.caption(f"Why: {plain(change.reason)}")
            own = change.proposed_by == actor.username
            comment = st.text_input("Comment", key=f"{KEY}_change_comment_{change.id}")
            approve, reject, _ = st.columns([1, 1, 3])
            if not own and approve.button(
                f"Apply change #{change.id} to {change.environment}",
                type="primary",
                key=f"{KEY}_apply_{change.id}",
            ):
                attempt(
                    partial(steward.promotions.approve_policy_change, actor, change.id, comment),
                    lambda c: f"Policy change #{c.id} applied to {c.environment}",
                )
            if reject.button("Withdraw" if own else "Reject", key=f"{KEY}_reject_{change.id}"):
                attempt(
                    partial(steward.promotions.reject_policy_change, actor, change.id, comment),
                    lambda c: f"Policy change #{c.id} {c.status.value}",
                )


def render_policy_editor(steward: Steward, actor: Actor) -> None:
    """Show every environment's policy and edit one (admins; the service enforces it)."""
    policies = steward.promotions.policies()
    st.caption(
        "Which roles must sign off a promotion into each environment, how long a signature holds, and "
        "the gates checked before deploying. Changes apply to requests deployed from now on and are "
        "recorded in the audit log with the policy before and after."
    )
    st.dataframe(policy_table(policies), hide_index=True)
    render_policy_changes(steward, actor)
    if not policies:
        return
    names = [p.environment for p in policies]
    name = st.selectbox("Edit the policy of", names, key=f"{KEY}_env")
    policy = next(p for p in policies if p.environment == name)
    prefix = f"{KEY}_{policy.environment_id}_{policy.version}"  # a saved change resets the fields
    counts = policy.signoff.counts
    st.markdown("**Sign-off**: how many of each role (0 = not asked; one person counts once)")
    columns = st.columns(len(APPROVER_ORDER))
    required = {
        role: column.number_input(
            role.label,
            min_value=0,
            max_value=MAX_PER_ROLE,
            value=counts.get(role, 0),
            step=1,
            key=f"{prefix}_{role.value}",
        )
        for role, column in zip(APPROVER_ORDER, columns, strict=True)
    }
    c1, c2 = st.columns(2)
    hours = c1.number_input(
        "Approvals valid for (hours)",
        min_value=1,
        max_value=90 * 24,
        value=int(policy.signoff.approval_ttl.total_seconds() // 3600),
        step=1,
        key=f"{prefix}_ttl",
    )
    auto = c2.checkbox(
        "Deploys itself once signed off and the gates pass (no operator)",
        value=policy.signoff.auto_execute,
        key=f"{prefix}_auto",
    )
    st.markdown("**Gates**")
    floors = dict(policy.gates.min_metrics)
    chosen = st.multiselect(
        "Metric thresholds",
        list(TRAINING_METRICS),
        default=list(floors),
        format_func=metric_phrase,
        key=f"{prefix}_metrics",
        help="A floor for metrics where higher is better, a ceiling for errors. A threshold on a metric "
        "a pipeline does not report (RMSE for a classifier) does not apply to it.",
    )
    thresholds = {}
    if chosen:
        cells = st.columns(len(chosen))
        for metric, cell in zip(chosen, cells, strict=True):
            word = "at least" if higher_is_better(metric) else "at most"
            thresholds[metric] = cell.number_input(
                f"{metric_phrase(metric)} {word}",
                value=float(floors.get(metric, 0.7 if higher_is_better(metric) else 100.0)),
                format="%.4f",
                key=f"{prefix}_floor_{metric}",
            )
    g1, g2 = st.columns(2)
    compare = g1.checkbox(
        "No worse than the version serving by more than…",
        value=policy.gates.max_regression_pct is not None,
        key=f"{prefix}_compare",
    )
    pct = g2.number_input(
        "… this many percent (primary metric, same hold-out)",
        min_value=0.0,
        max_value=50.0,
        value=float(policy.gates.max_regression_pct or 1.0),
        step=0.5,
        disabled=not compare,
        key=f"{prefix}_pct",
    )
    load = st.checkbox(
        "A passed load test at the environment's SLA",
        value=policy.gates.require_load_test,
        key=f"{prefix}_load",
        help="The candidate's latest load test against the scoring service must meet this environment's "
        "SLA targets; while none is set or no test ran, the gate is pending and blocks deploying.",
    )
    alerts = st.checkbox(
        "No open critical alert on the pipeline",
        value=policy.gates.require_no_critical_alert,
        key=f"{prefix}_alerts",
    )
    if st.button(f"Save the policy of {name}", type="primary", key=f"{prefix}_save"):
        try:
            signoff = SignoffPolicy.build(
                {role: int(count) for role, count in required.items()},
                approval_ttl=timedelta(hours=int(hours)),
                auto_execute=auto,
            )
            gates = GatePolicy.build(
                thresholds,
                max_regression_pct=float(pct) if compare else None,
                require_load_test=load,
                require_no_critical_alert=alerts,
            )
            saved = steward.promotions.set_policy(
                actor, name, signoff, gates, expected_version=policy.version
            )
        except StewardError as problem:
            st.error(md(str(problem), limit=1000))
            return
        if isinstance(saved, PolicyChange):
            flash(
                f"Lowering the policy of {saved.environment} waits for a second admin (change #{saved.id}): "
                + "; ".join(saved.lowers),
                "info",
            )
        else:
            flash(f"Policy of {saved.environment} saved: {saved.signoff.describe()}")
        st.rerun()
