"""Alerts: what needs a person, until a person closes it; and the monitors' live signals below.

Incidents are opened by the firings that are their evidence (drift, an SLA
breach, an artifact failing its digest, a failed batch run...) under the
rules below, and stay open until an operator resolves them with a note; an
unresolved critical incident blocks its pipeline's promotions. Each one
drills down to its evidence, the ledger just before it began, its runbook
and the actions that fit. Signals are different: derived afresh from the monitors' latest
records, they come and go on their own and cannot be acknowledged.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from steward.app.ui.channels import render_channel_table, render_delivery_log
from steward.app.ui.guard import require
from steward.app.ui.incidents import render_incident, render_rules
from steward.app.ui.text import md, plain, when
from steward.core.domain.alerts import Alert
from steward.core.domain.permissions import Action, is_allowed
from steward.core.domain.signals import monitors_reporting

ICONS = {"critical": "🔴 critical", "warning": "🟠 warning", "info": "🔵 info"}

page = require(Action.VIEW_ALERTS)
steward, actor = page.steward, page.actor
may_manage = is_allowed(actor.roles, Action.MANAGE_ALERTS)
st.title("Alerts")


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
            "Environment": plain(a.environment),
            "Owner": plain(a.assigned_to),
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


# ---- the incident board ---------------------------------------------------------------------------
unresolved = steward.alerts.unresolved()
st.caption(
    "One incident per cause on a pipeline and environment, with every firing on its timeline; ranked most "
    "severe first, then open longest (snoozed ones last). It reopens if it fires again after a resolve. "
    "An unresolved critical incident blocks its pipeline's promotions."
    + ("" if may_manage else " Operators and admins acknowledge, assign, snooze and resolve incidents.")
)
st.subheader(f"Open incidents ({len(unresolved)})")
if not unresolved:
    st.success("No open incidents.")
else:
    cols = st.columns(3)
    cols[0].metric("Critical", sum(a.severity.value == "critical" for a in unresolved))
    cols[1].metric("Warnings", sum(a.severity.value == "warning" for a in unresolved))
    cols[2].metric("Acknowledged", sum(a.status.value == "acknowledged" for a in unresolved))
    st.dataframe(alert_rows(unresolved), hide_index=True)
    for alert in unresolved:
        label = f"#{alert.id} {alert.severity.value}: {alert.title} on {alert.where}"
        with st.expander(md(label, limit=300), key=f"alert_{alert.id}"):
            render_incident(steward, actor, steward.incidents.drilldown(alert.id), may_manage=may_manage)

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
    cols[2].metric(
        "Monitors reporting",
        monitors_reporting(signals),
        help="Each drift monitor, batch pipeline, job or component with a signal counts once",
    )
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

# ---- rules and what the channels were told -------------------------------------------------------
st.subheader("Alert rules")
st.caption("Each kind of alert: its severity, the condition that opens an incident, and its runbook.")
render_rules(steward, actor, steward.alert_rules.list(), may_edit=may_manage)
st.subheader("Notifications sent")
st.caption(
    "Where incidents are announced, and every delivery attempt. Admins configure channels on the Admin page."
)
render_channel_table(steward)
render_delivery_log(steward)
