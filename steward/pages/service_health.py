"""Service health: what the scoring service would serve in each environment, and what it would be held to.

There is no HTTP scoring service yet (a later capability), so there are no
request measurements to show. What the core already knows is shown instead:
per environment, the version each pipeline's deployment points at (what a
scoring service would load), since when, by whose decision and whether a
fallback is armed; and the SLA the environment is held to, which Steward
does not configure yet, so the page says so rather than invent one.
"""

import pandas as pd
import streamlit as st

from steward.app.ui.guard import require
from steward.app.ui.sla_form import render_sla_section, targets_line
from steward.app.ui.text import md, plain, when
from steward.core.domain.permissions import Action

page = require(Action.VIEW_SERVICE_HEALTH)
steward, actor = page.steward, page.actor
st.title("Service health")
st.caption(
    "What a scoring service would serve in each environment, and the SLA it would be held to. "
    "Steward has no scoring service yet."
)
st.info(
    "Latency percentiles, throughput and error rate appear here once the scoring service logs its "
    "requests. Until then this page shows what it would serve, and how many requests batch runs have "
    "answered through each deployment (its prediction log)."
)

environments = steward.environments.list()
serving = steward.deployments.serving()
policies = {policy.environment: policy for policy in steward.promotions.policies()}

if not environments:
    st.warning(
        "No environments exist yet, so nothing can be served. An admin runs `steward db upgrade`, "
        "which creates Dev, Test and Prod."
    )
elif not serving:
    st.info(
        "Nothing is deployed in any environment, so a scoring service would have nothing to serve. "
        "Next: a data scientist registers and trains a pipeline (Pipelines page), then requests its "
        "promotion to Dev (Deployments page)."
    )

for env in environments:
    st.subheader(f"{md(env.name)} · {env.tier.value} tier")
    here = [d for d in serving if d.environment_id == env.id]
    logged = {
        (d.pipeline_name, env.name): steward.predictions.summary(d.pipeline_name, env.name) for d in here
    }
    if here:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Would serve": plain(f"{d.pipeline_name} v{d.version_number}"),
                        "Since": when(d.since),
                        "Decided by": plain(d.decided_by),
                        "Approved by": plain(", ".join(d.approved_by)) or "no sign-off needed",
                        "Fallback": f"v{d.fallback_number} armed"
                        if d.fallback_number
                        else "none armed (nothing to fall back to)",
                        "Ledger entry": d.ledger_entry_id,
                        "Requests answered (batch)": logged[(d.pipeline_name, env.name)].predictions,
                        "Last answered": when(logged[(d.pipeline_name, env.name)].last_scored_at),
                    }
                    for d in here
                ]
            ),
            hide_index=True,
            key=f"serving_{env.id}",
        )
    else:
        st.caption(f"Nothing would be served in {md(env.name)}: no version is deployed here yet.")
    policy = policies.get(env.name)
    gate = (
        " Its promotion policy asks for a passed load test at this SLA."
        if policy is not None and policy.gates.require_load_test
        else ""
    )
    for d in here:
        sla = steward.sla.get(env.name, d.pipeline_name)
        st.caption(f"SLA of {md(d.pipeline_name)}: {md(targets_line(sla))}.{gate}")

render_sla_section(steward, actor, environments)
