"""Overview: the four monitoring questions at a glance, what serves where, and what to do next."""

import pandas as pd
import streamlit as st

from steward.app.ui.guard import require
from steward.app.ui.links import see_hint
from steward.app.ui.text import md, plain, when
from steward.core.domain.permissions import Action, is_allowed

LIGHTS = {"green": "🟢", "amber": "🟠", "red": "🔴", "grey": "⚪"}

page = require(Action.VIEW_OVERVIEW)
steward, actor = page.steward, page.actor
summary = steward.overview.summary(actor)

st.title("Overview")
st.caption("Deploy, monitor, manage and govern your machine-learning pipelines.")

columns = st.columns(4)
for column, lamp in zip(columns, steward.signals.lamps(), strict=True):
    with column.container(border=True):
        st.markdown(f"{LIGHTS[lamp.light.value]} **{md(lamp.question)}**")
        st.caption(md(lamp.summary))
        see_hint(actor, lamp.page)  # a link, and only to a page this reader can open

st.subheader("Pipelines and environments, worst first")
board = steward.overview.board()
if board:
    for pair in board:
        with st.container(border=True):
            serves = f"serves v{pair.version_number}" if pair.version_number else "nothing serves here"
            st.markdown(f"**{md(pair.pipeline)}** in **{md(pair.environment)}** · {serves}")
            for column, light in zip(st.columns(4), pair.lights, strict=True):
                column.markdown(f"{LIGHTS[light.light.value]} [{md(light.label)}]({light.link})")
                column.caption(f"{md(light.words, 160)} · evidence: {md(light.page)}")
else:
    st.caption("No pipeline is deployed or monitored yet, so there is nothing to light.")

st.subheader("What serves where")
serving = steward.deployments.serving()
if serving:
    environments = [env.name for env in summary.environments]
    table: dict[str, dict[str, str]] = {}
    for deployment in serving:
        row = table.setdefault(deployment.pipeline_name, dict.fromkeys(environments, "-"))
        row[deployment.environment_name] = f"v{deployment.version_number}"
    st.dataframe(
        pd.DataFrame([{"Pipeline": plain(name), **cells} for name, cells in sorted(table.items())]),
        hide_index=True,
    )
else:
    st.info("Nothing is deployed yet: promote a version to Dev from the Deployments page.")

cols = st.columns(4)
cols[0].metric("Pipelines", len(steward.pipelines.list()))
cols[1].metric("Data sets", summary.datasets)
cols[2].metric("Active users", summary.users)
cols[3].metric("Audit events", summary.audit_events)

if summary.next_steps:
    st.subheader("What to do next")
    for step in summary.next_steps:
        st.markdown(f"- {step}")

if is_allowed(actor.roles, Action.VIEW_AUDIT):
    st.subheader("Recent activity")
    events = steward.audit.recent(8)
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
