"""The Alerts page's pieces: an incident's drill-down and actions, and the rules editor.

Every change goes through one service call (``attempt``), which audits it and
checks the actor's permission itself; these helpers only lay out what the
services return. Runbooks are Markdown written by operators, shown with
``st.markdown`` and HTML left off (Streamlit's default), so no raw HTML runs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import partial

import pandas as pd
import streamlit as st

from steward.app.ui.guard import attempt
from steward.app.ui.navigation import PAGES_DIR, allowed_pages
from steward.app.ui.text import md, plain, when
from steward.core.domain.accounts import Actor
from steward.core.domain.alert_rules import Comparison, RuleSettings
from steward.core.domain.alerts import Alert
from steward.core.domain.promotions import LedgerEntry
from steward.core.domain.signals import Severity
from steward.core.services.incident_view import Drilldown
from steward.core.steward import Steward


def render_incident(steward: Steward, actor: Actor, view: Drilldown, *, may_manage: bool) -> None:
    alert = view.alert
    st.text(plain(alert.detail, 2000) or "(no detail)")
    owner = f" · assigned to {alert.assigned_to}" if alert.assigned_to else ""
    snoozed = f" · snoozed until {when(alert.snoozed_until)}" if alert.snoozed_until else ""
    st.caption(
        md(
            f"{alert.status.value} · seen {alert.count} time(s) · first {when(alert.opened_at)} · "
            f"last {when(alert.last_seen_at)} · reopened {alert.reopened_count}x{owner}{snoozed}"
        )
    )
    evidence, changes, runbook, timeline = st.tabs(
        ["Evidence", "What changed just before", "Runbook", "Timeline"]
    )
    with evidence:
        visible = {page.file for page in allowed_pages(actor)}  # a page outside one's navigation cannot open
        for link in view.evidence:
            if link.page in visible:
                st.page_link(str(PAGES_DIR / link.page), label=link.label, query_params=link.params or None)
    with changes:
        if not view.changes_before:
            st.caption("No deployment changed this pipeline there in the 48 hours before it began.")
        else:
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "When": when(e.occurred_at),
                            "Change": e.kind.value,
                            "Version": f"v{e.version_number}",
                            "From": f"v{e.previous_number}" if e.previous_number else "-",
                            "By": plain(e.actor_name),
                            "Reason": plain(e.reason, 300),
                        }
                        for e in view.changes_before
                    ]
                ),
                hide_index=True,
            )
    with runbook:
        st.markdown(view.rule.runbook or "_No runbook for this kind of alert yet._")
    with timeline:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "When": when(o.occurred_at),
                        "Audit": f"#{o.seq}" if o.seq else "-",
                        "Value": o.value,
                        "Detail": plain(o.detail, 300),
                    }
                    for o in view.timeline[-200:]
                ]
            ),
            hide_index=True,
        )
    if may_manage:
        _manage(steward, actor, view)


def _said(verb: str) -> Callable[[Alert], str]:
    return lambda alert: f"Alert #{alert.id} {verb}."


def _manage(steward: Steward, actor: Actor, view: Drilldown) -> None:
    alert = view.alert
    with st.form(f"manage_{alert.id}", clear_on_submit=True):
        comment = st.text_area(
            "Comment or note (required to resolve, roll back or fail over; goes into the audit log)",
            key=f"alert_comment_{alert.id}",
            max_chars=4000,
        )
        c1, c2 = st.columns(2)
        assignee = c1.text_input("Assign to (username)", key=f"assignee_{alert.id}")
        hours = c2.number_input(
            "Snooze for hours", min_value=1, max_value=720, value=4, key=f"snooze_{alert.id}"
        )
        buttons = st.columns(6)
        if buttons[0].form_submit_button(
            "Acknowledge", key=f"acknowledge_{alert.id}", disabled=alert.status.value == "acknowledged"
        ):
            attempt(partial(steward.alerts.acknowledge, actor, alert.id, comment), _said("acknowledged"))
        if buttons[1].form_submit_button("Assign", key=f"assign_{alert.id}"):
            attempt(partial(steward.alerts.assign, actor, alert.id, assignee, comment), _said("assigned"))
        if buttons[2].form_submit_button("Snooze", key=f"snooze_btn_{alert.id}"):
            until = steward.ctx.clock.now() + timedelta(hours=int(hours))
            attempt(partial(steward.alerts.snooze, actor, alert.id, until, comment), _said("snoozed"))
        if buttons[3].form_submit_button(
            "Roll back", key=f"rollback_{alert.id}", disabled=not view.can_roll_back
        ):
            attempt(
                partial(_roll_back, steward, actor, alert, comment), lambda e: f"Rolled back: ledger #{e.id}."
            )
        if buttons[4].form_submit_button(
            "Fail over", key=f"failover_{alert.id}", disabled=not view.can_fail_over
        ):
            attempt(
                partial(
                    steward.deployments.failover,
                    actor,
                    alert.environment or "",
                    alert.pipeline or "",
                    comment,
                ),
                lambda e: f"Failed over: ledger #{e.id}.",
            )
        if buttons[5].form_submit_button("Resolve", key=f"resolve_{alert.id}", type="primary"):
            attempt(partial(steward.alerts.resolve, actor, alert.id, comment), _said("resolved"))
    if view.retrain_link is not None and view.retrain_link.page in {p.file for p in allowed_pages(actor)}:
        st.page_link(
            str(PAGES_DIR / view.retrain_link.page),
            label=view.retrain_link.label,
            query_params=view.retrain_link.params,
        )


def _roll_back(steward: Steward, actor: Actor, alert: Alert, reason: str) -> LedgerEntry:
    """The rollback the ledger offers for this pipeline there (the version before the current one)."""
    target = steward.deployments.rollback_target(alert.environment or "", alert.pipeline or "")
    return steward.deployments.rollback(actor, target.id, reason)


def render_rules(steward: Steward, actor: Actor, rules: list[RuleSettings], *, may_edit: bool) -> None:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Kind": r.kind,
                    "Title": r.title,
                    "Severity": r.severity.value,
                    "Condition": r.describe(),
                    "Changed by": r.updated_by,
                    "Changed": when(r.updated_at),
                }
                for r in rules
            ]
        ),
        hide_index=True,
    )
    if not may_edit:
        return
    kinds = [r.kind for r in rules]
    kind = st.selectbox("Edit rule", kinds, key="rule_kind")
    rule = next(r for r in rules if r.kind == kind)
    with st.form(f"rule_{kind}"):
        c1, c2, c3 = st.columns(3)
        severity = c1.selectbox(
            "Severity", [s.value for s in Severity], index=list(Severity).index(rule.severity)
        )
        comparison = c2.selectbox(
            "Comparison", [c.value for c in Comparison], index=list(Comparison).index(rule.comparison)
        )
        threshold = c3.number_input("Threshold", value=rule.threshold, format="%g")
        c4, c5, c6 = st.columns(3)
        windows = c4.number_input("For windows", min_value=1, max_value=1000, value=rule.windows)
        minutes = c5.number_input("Within minutes (0: any)", min_value=0, value=rule.minutes)
        enabled = c6.checkbox("Enabled", value=rule.enabled)
        runbook = st.text_area(
            "Runbook (Markdown, no HTML)", value=rule.runbook, height=160, max_chars=20_000
        )
        if st.form_submit_button("Save rule", type="primary"):
            attempt(
                partial(
                    steward.alert_rules.update,
                    actor,
                    kind,
                    severity=severity,
                    comparison=comparison,
                    threshold=threshold,
                    windows=int(windows),
                    minutes=int(minutes),
                    enabled=enabled,
                    runbook=runbook,
                ),
                lambda r: f"Rule {r.kind} saved: {r.describe()}.",
            )
