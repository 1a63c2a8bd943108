"""Alerts: what needs a person, until a person closes it; and the monitors' live signals below.

Alerts are opened by the events that are their evidence (an artifact failing
its digest, a failed batch run) and stay open until an operator resolves them
with a comment; an unresolved critical alert blocks its pipeline's
promotions. Signals are different: derived afresh from the monitors' latest
records, they come and go on their own and cannot be acknowledged.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pandas as pd
import streamlit as st

from steward.app.ui.guard import attempt, require
from steward.app.ui.text import md, plain, when
from steward.core.domain.alerts import Alert
from steward.core.domain.permissions import Action, is_allowed

ICONS = {"critical": "🔴 critical", "warning": "🟠 warning", "info": "🔵 info"}

page = require(Action.VIEW_ALERTS)
steward, actor = page.steward, page.actor
may_manage = is_allowed(actor.roles, Action.MANAGE_ALERTS)
st.title("Alerts")


def done(verb: str) -> Callable[[Alert], str]:
    return lambda alert: f"Alert #{alert.id} {verb}."


def alert_rows(alerts: list[Alert], *, resolved: bool = False) -> pd.DataFrame:
    rows = []
    for a in alerts:
        row = {
            "Alert": f"#{a.id}",
            "Severity": ICONS.get(a.severity.value, a.severity.value),
            "What": plain(a.title),
            "Where": plain(a.where),
            "Since": when(a.opened_at),
            "Occurrences": a.count,
            "Evidence": a.audit_ref,
            "Look at": f"{a.page} page",
        }
        if resolved:
            row |= {
                "Resolved": when(a.resolved_at),
                "By": plain(a.resolved_by),
                "Resolution": plain(a.resolution, 400),
            }
        else:
            row |= {
                "Last seen": when(a.last_seen_at),
                "Status": a.status.value + (f" by {plain(a.acknowledged_by)}" if a.acknowledged_by else ""),
            }
        rows.append(row)
    return pd.DataFrame(rows)


# ---- open alerts ----------------------------------------------------------------------------------
unresolved = steward.alerts.unresolved()
st.caption(
    "Opened by the event that is their evidence, counted when it repeats, and open until someone resolves "
    "them with a comment. An unresolved critical alert blocks its pipeline's promotions."
    + ("" if may_manage else " Operators and admins acknowledge and resolve alerts.")
)
st.subheader(f"Open alerts ({len(unresolved)})")
if not unresolved:
    st.success("No open alerts.")
else:
    cols = st.columns(3)
    cols[0].metric("Critical", sum(a.severity.value == "critical" for a in unresolved))
    cols[1].metric("Warnings", sum(a.severity.value == "warning" for a in unresolved))
    cols[2].metric("Acknowledged", sum(a.status.value == "acknowledged" for a in unresolved))
    st.dataframe(alert_rows(unresolved), hide_index=True)
    for alert in unresolved:
        label = f"#{alert.id} {alert.severity.value}: {alert.title} on {alert.where}"
        with st.expander(md(label, limit=300), key=f"alert_{alert.id}"):
            st.text(plain(alert.detail, 2000) or "(no detail)")
            st.caption(
                md(
                    f"Seen {alert.count} time(s), first {when(alert.opened_at)}, "
                    f"last {when(alert.last_seen_at)}. Evidence: {alert.evidence}."
                )
            )
            if alert.acknowledged_by:
                st.caption(
                    md(
                        f"Acknowledged by {alert.acknowledged_by} {when(alert.acknowledged_at)}"
                        + (f": {alert.acknowledge_comment}" if alert.acknowledge_comment else "")
                    )
                )
            if may_manage:
                with st.form(f"manage_{alert.id}", clear_on_submit=True):
                    comment = st.text_area(
                        "Comment (required to resolve; goes into the audit log)",
                        key=f"alert_comment_{alert.id}",
                        max_chars=4000,
                    )
                    acknowledge, resolve, _ = st.columns([1, 1, 3])
                    if acknowledge.form_submit_button(
                        "Acknowledge",
                        key=f"acknowledge_{alert.id}",
                        disabled=alert.status.value == "acknowledged",
                    ):
                        attempt(
                            partial(steward.alerts.acknowledge, actor, alert.id, comment),
                            done("acknowledged"),
                        )
                    if resolve.form_submit_button("Resolve", key=f"resolve_{alert.id}", type="primary"):
                        attempt(partial(steward.alerts.resolve, actor, alert.id, comment), done("resolved"))

# ---- recently resolved ----------------------------------------------------------------------------
resolved = steward.alerts.recently_resolved(20)
if resolved:
    st.subheader("Recently resolved")
    st.dataframe(alert_rows(resolved, resolved=True), hide_index=True)

# ---- derived signals ------------------------------------------------------------------------------
st.subheader("Monitor signals")
st.caption(
    "Not alerts: what every monitor's latest records say right now (failed batch runs and jobs, drift and "
    "degraded performance, infrastructure probes, artifacts with an unresolved integrity alert). They clear "
    "themselves when the next record is fine. Each names where its evidence is."
)
signals = steward.signals.all()
if not signals:
    st.success("Nothing needs attention: every monitor that has run is within its thresholds.")
else:
    cols = st.columns(3)
    cols[0].metric("Critical signals", sum(s.severity.value == "critical" for s in signals))
    cols[1].metric("Warning signals", sum(s.severity.value == "warning" for s in signals))
    cols[2].metric("Monitors reporting", len({s.monitor for s in signals}))
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Severity": ICONS.get(s.severity.value, s.severity.value),
                    "Monitor": s.monitor,
                    "What": plain(s.title),
                    "Where": plain(s.subject),
                    "Since": when(s.since),
                    "Detail": plain(s.detail, 400),
                    "Evidence": plain(s.evidence),
                }
                for s in signals
            ]
        ),
        hide_index=True,
    )
