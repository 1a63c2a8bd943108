"""Alerts: what the monitors found that someone should look at, with where the evidence is."""

import pandas as pd
import streamlit as st

from app.ui.guard import require
from app.ui.text import plain, when
from core.domain.permissions import Action

ICONS = {"critical": "🔴 critical", "warning": "🟠 warning", "info": "🔵 info"}

page = require(Action.VIEW_ALERTS)
st.title("Alerts")
st.caption(
    "Signals from every monitor: failed batch runs and jobs, drift and degraded performance, infrastructure "
    "probes and artifacts that no longer match their digest. Each names where its evidence is."
)

signals = page.steward.signals.all()
if not signals:
    st.success("Nothing needs attention: every monitor that has run is within its thresholds.")
else:
    cols = st.columns(3)
    cols[0].metric("Critical", sum(s.severity.value == "critical" for s in signals))
    cols[1].metric("Warnings", sum(s.severity.value == "warning" for s in signals))
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
st.caption(
    "Acknowledging, assigning and resolving alerts, and notifications, come with the alerts capability."
)
