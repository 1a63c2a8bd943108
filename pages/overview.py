"""Overview: the state of the control room at a glance, and what to do next."""

import pandas as pd
import streamlit as st

from app.ui.guard import require
from app.ui.text import plain, when
from core.domain.permissions import Action, is_allowed

page = require(Action.VIEW_OVERVIEW)
summary = page.steward.overview.summary(page.actor)

st.title("Overview")
st.caption("Deploy, monitor, manage and govern your machine-learning pipelines.")

cols = st.columns(4)
cols[0].metric("Active users", summary.users)
cols[1].metric("Open sessions", summary.active_sessions)
cols[2].metric("Data sets", summary.datasets)
cols[3].metric("Audit events", summary.audit_events)

st.subheader("Environments")
if summary.environments:
    st.dataframe(
        pd.DataFrame(
            [
                {"Environment": env.name, "Tier": env.tier.value, "Purpose": plain(env.description)}
                for env in summary.environments
            ]
        ),
        hide_index=True,
    )
else:
    st.info("No environments yet: run `steward db upgrade`.")

if summary.next_steps:
    st.subheader("What to do next")
    for step in summary.next_steps:
        st.markdown(f"- {step}")

if is_allowed(page.actor.roles, Action.VIEW_AUDIT):
    st.subheader("Recent activity")
    events = page.steward.audit.recent(8)
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "When": when(e.occurred_at),
                    "Who": plain(e.actor),
                    "What": e.action,
                    "Object": plain(e.object_id),
                    "Outcome": e.outcome.value,
                }
                for e in events
            ]
        ),
        hide_index=True,
    )
