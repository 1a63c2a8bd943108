"""Event timeline: deployments, approvals, alerts, runs, fail-overs and swaps, newest first, in one view."""

from datetime import UTC, datetime, time, timedelta

import pandas as pd
import streamlit as st

from steward.app.ui.guard import require
from steward.app.ui.text import plain, when
from steward.core.domain.permissions import Action

CATEGORIES = ["deployment", "approval", "alert", "run", "failover", "swap"]

page = require(Action.VIEW_AUDIT)
steward = page.steward
st.title("Event timeline")
st.caption('What happened, in order, across the control room: read it to answer "what changed just before?".')

params = st.query_params
c1, c2, c3, c4 = st.columns(4)
pipeline = c1.text_input("Pipeline", value=params.get("pipeline", ""), key="timeline_pipeline").strip()
environment = c2.text_input(
    "Environment", value=params.get("environment", ""), key="timeline_environment"
).strip()
since = c3.date_input("From (UTC)", value=None, key="timeline_since")
until = c4.date_input("To (UTC, inclusive)", value=None, key="timeline_until")
chosen = st.pills("Kinds", CATEGORIES, selection_mode="multi", default=CATEGORIES, key="timeline_kinds")

entries = steward.timeline.entries(
    pipeline=pipeline or None,
    environment=environment or None,
    since=datetime.combine(since, time.min, tzinfo=UTC) if since else None,
    until=datetime.combine(until, time.min, tzinfo=UTC) + timedelta(days=1) if until else None,
    categories=frozenset(chosen or CATEGORIES),
)
st.subheader(f"{len(entries)} event(s)")
if not entries:
    st.info("Nothing in this range. Widen the dates or clear the pipeline and environment.")
else:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "When": when(e.occurred_at),
                    "Kind": e.category,
                    "What": e.action,
                    "Outcome": e.outcome,
                    "Pipeline": plain(e.pipeline),
                    "Environment": plain(e.environment),
                    "Who": plain(e.actor),
                    "Object": plain(e.object_ref),
                    "Detail": plain(e.detail, 300),
                    "Audit": f"#{e.seq}",
                }
                for e in entries
            ]
        ),
        hide_index=True,
    )
