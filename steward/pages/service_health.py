"""Service health: each deployment's live traffic against its SLA, from the request rollups.

Latency percentiles, throughput and errors per version over time (a swap
shows as one version's line ending and the next starting), the SLA's lines,
its standing in words, the slowest and failing requests by id, and the latest
load tests beside the live window. Filters come from the URL
(``?environment=Prod&pipeline=credit-default&hours=24``) so the Overview's
lights link straight here.
"""

import pandas as pd
import streamlit as st

from steward.app.ui.charts_service import service_figure
from steward.app.ui.guard import require
from steward.app.ui.sla_form import render_sla_section, targets_line
from steward.app.ui.text import md, plain, when
from steward.core.domain.latency import latency_text
from steward.core.domain.permissions import Action
from steward.core.domain.sla import percent
from steward.core.services.service_health import RANGES_HOURS

STANDING = {
    "within": (st.success, "within its SLA"),
    "breached": (st.error, "in breach of its SLA"),
    "idle": (st.info, "idle: no request in the SLA window"),
    "not judged": (st.info, "not judged yet: the worker's rollup job has not evaluated it"),
    "no SLA": (st.info, "held to no SLA: set targets below"),
}


page = require(Action.VIEW_SERVICE_HEALTH)
steward, actor = page.steward, page.actor
params = st.query_params
wanted_env, wanted_pipeline = params.get("environment"), params.get("pipeline")
hours_param = params.get("hours", "6")
hours = int(hours_param) if hours_param.isdigit() and int(hours_param) in RANGES_HOURS else 6

st.title("Service health")
st.caption(
    "Online requests per deployment from the minute and hour rollups of the prediction log, "
    "judged against each deployment's SLA."
)
hours = int(
    st.selectbox(
        "Time range",
        RANGES_HOURS,
        index=RANGES_HOURS.index(hours),
        format_func=lambda h: f"last {h} hours" if h > 1 else "last hour",
        key="sh_hours",
    )
)
view = steward.service_health.view(hours=hours, environment=wanted_env, pipeline=wanted_pipeline)
if wanted_env or wanted_pipeline:
    st.caption(
        f"Showing {md(wanted_pipeline or 'every pipeline')} in {md(wanted_env or 'every environment')}. "
        "[Show everything](/service_health)"
    )
environments = [e for e in view.environments if wanted_env is None or e.name == wanted_env]

if not view.environments:
    st.warning(
        "No environments exist yet, so nothing can be served. An admin runs `steward db upgrade`, "
        "which creates Dev, Test and Prod."
    )
elif not view.deployments:
    st.info(
        "Nothing is deployed here, so no request is answered. Next: a data scientist registers and trains "
        "a pipeline (Pipelines page), then requests its promotion to Dev (Deployments page)."
    )

for env in environments:
    st.subheader(f"{md(env.name)} · {env.tier.value} tier")
    here = [h for h in view.deployments if h.deployment.environment_id == env.id]
    if not here:
        st.caption(f"Nothing is served in {md(env.name)}: no version is deployed here yet.")
        continue
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Serves": plain(f"{h.deployment.pipeline_name} v{h.deployment.version_number}"),
                    "Since": when(h.deployment.since),
                    "Decided by": plain(h.deployment.decided_by),
                    "Approved by": plain(", ".join(h.deployment.approved_by)) or "no sign-off needed",
                    "Fallback": f"v{h.deployment.fallback_number} armed"
                    if h.deployment.fallback_number
                    else "none armed (nothing to fall back to)",
                    "SLA now": STANDING.get(h.state, (st.info, h.state))[1],
                    "Online requests (range)": h.online_requests,
                    "Requests answered (batch)": h.batch_requests,
                    "Last online minute": when(h.last_minute),
                }
                for h in here
            ]
        ),
        hide_index=True,
        key=f"serving_{env.id}",
    )
    gate = (
        " Its promotion policy asks for a passed load test at this SLA."
        if env.name in view.load_test_gated
        else ""
    )
    for h in here:
        d = h.deployment
        with st.container(border=True):
            show, words = STANDING.get(h.state, (st.info, h.state))
            since = f" since {when(h.state_since)}" if h.state_since else ""
            reason = f": {h.state_detail}" if h.state_detail else ""
            show(f"**{md(d.pipeline_name)}** in {md(env.name)} is {words}{since}{md(reason)}")
            st.caption(f"SLA of {md(d.pipeline_name)}: {md(targets_line(h.sla))}.{gate}")
            w = h.window
            cols = st.columns(6)
            cols[0].metric(f"Requests (last {h.window_minutes} min)", w.requests)
            cols[1].metric("p50", latency_text(w.p50_ms))
            cols[2].metric("p95", latency_text(w.p95_ms))
            cols[3].metric("p99", latency_text(w.p99_ms))
            cols[4].metric("Requests/s", f"{w.throughput_rps or 0:.3g}")
            cols[5].metric("Errors", percent(w.error_rate) if w.error_rate is not None else "-")
            if h.series:
                st.plotly_chart(
                    service_figure(h.series, h.sla.targets if h.sla else None, view.span_seconds),
                    key=f"chart_{env.id}_{d.pipeline_id}",
                )
            else:
                st.caption(
                    "No online request in this range: the charts appear once the scoring service answers "
                    "and the worker's rollup job has run."
                )
            left, right = st.columns(2)
            left.markdown(f"**Slowest requests** (last hour, since {when(view.samples_since)})")
            left.dataframe(
                pd.DataFrame(
                    [
                        {
                            "Request id": plain(x.request_id),
                            "Version": f"v{x.version_number}",
                            "Latency": latency_text(x.latency_ms),
                            "Outcome": x.status + (" (fallback)" if x.fallback else ""),
                            "When": when(x.scored_at),
                        }
                        for x in h.slowest
                    ],
                    columns=["Request id", "Version", "Latency", "Outcome", "When"],
                ),
                hide_index=True,
                key=f"slowest_{env.id}_{d.pipeline_id}",
            )
            right.markdown("**Failing requests** (last hour, newest first)")
            right.dataframe(
                pd.DataFrame(
                    [
                        {
                            "Request id": plain(x.request_id),
                            "Version": f"v{x.version_number}",
                            "Latency": latency_text(x.latency_ms),
                            "When": when(x.scored_at),
                        }
                        for x in h.failing
                    ],
                    columns=["Request id", "Version", "Latency", "When"],
                ),
                hide_index=True,
                key=f"failing_{env.id}_{d.pipeline_id}",
            )
            st.markdown("**Load tests beside live traffic**")
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "Traffic": f"live, last {h.window_minutes} min",
                            "Version": f"v{d.version_number}",
                            "When": when(view.until),
                            "Requests": w.requests,
                            "p50": latency_text(w.p50_ms),
                            "p95": latency_text(w.p95_ms),
                            "p99": latency_text(w.p99_ms),
                            "Throughput": f"{w.throughput_rps or 0:.3g} req/s",
                            "Errors": w.errors,
                        }
                    ]
                    + [
                        {
                            "Traffic": f"load test #{t.id} ({t.status.value})",
                            "Version": f"v{t.version_number}",
                            "When": when(t.finished_at or t.requested_at),
                            "Requests": t.requests,
                            "p50": latency_text(t.p50_ms),
                            "p95": latency_text(t.p95_ms),
                            "p99": latency_text(t.p99_ms),
                            "Throughput": f"{t.throughput_rps or 0:.3g} req/s",
                            "Errors": t.errors,
                        }
                        for t in h.load_tests
                    ]
                ),
                hide_index=True,
                key=f"loadtests_{env.id}_{d.pipeline_id}",
            )

st.caption(f"Rollups include the prediction log up to row {view.rolled_up_to}.")
render_sla_section(steward, actor, view.environments)
