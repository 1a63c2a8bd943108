"""Infrastructure: is storage and compute up? Components in words, every heartbeat, a day of history."""

from datetime import timedelta

import pandas as pd
import streamlit as st

from steward.app.ui.charts_infrastructure import probe_history_figure, process_history_figure
from steward.app.ui.guard import require
from steward.app.ui.text import md, plain, when
from steward.core.domain.infrastructure import Health, bytes_in_words, seconds_in_words
from steward.core.domain.permissions import Action

page = require(Action.VIEW_INFRASTRUCTURE)
steward = page.steward
st.title("Infrastructure")

ICON = {Health.UP: "🟢", Health.DEGRADED: "🟠", Health.DOWN: "🔴", Health.UNKNOWN: "⚪"}
WORDS = {Health.UP: "up", Health.DEGRADED: "degraded", Health.DOWN: "down", Health.UNKNOWN: "not judged yet"}
STATE_ICON = {"live": "🟢", "late": "🟠", "lost": "🔴", "stopped": "⚪", "replaced": "⚪"}

# The Overview's lights link here with ?environment=...: that environment's scoring replicas only.
wanted_env = st.query_params.get("environment") or None
known = {e.name for e in steward.environments.list()}
if wanted_env is not None and wanted_env not in known:
    st.warning(md(f"No environment named {wanted_env[:64]}: showing every environment."))
    wanted_env = None
status = steward.infrastructure.status(wanted_env)
where = f" for {wanted_env}" if wanted_env else ""
st.markdown(f"### {ICON[status.health]} Infrastructure{md(where)} is {WORDS[status.health]}")
st.caption(md(status.reason))
if wanted_env:
    st.caption(
        md(f"Showing the shared storage and processes, and {wanted_env}'s scoring replicas only.")
        + " [Show everything](/infrastructure)"
    )

st.subheader("Components")
st.dataframe(
    pd.DataFrame(
        [
            {
                "Component": plain(r.component, 100),
                "Status": f"{ICON[r.health]} {WORDS[r.health]}",
                "Why": plain(r.reason, 400),
                "Read": f"{when(r.read_at)} by {plain(r.read_by, 100)}" if r.read_at else "",
            }
            for r in status.readings
        ]
    ),
    hide_index=True,
    width="stretch",
)

st.subheader("Processes")
rows = [
    {
        "Component": plain(component.label, 100),
        "Process": plain(i.heartbeat.instance, 100),
        "State": f"{STATE_ICON.get(i.state.value, '')} {i.state.value}: {plain(i.reason, 200)}",
        "Version": plain(i.heartbeat.version, 32),
        "CPU %": round(i.heartbeat.cpu_percent, 1),
        "Memory": bytes_in_words(i.heartbeat.memory_bytes),
        "Open files": i.heartbeat.open_files,
        "Threads": i.heartbeat.threads,
        "Started": when(i.heartbeat.started_at),
        "Loaded": plain(", ".join(f"{k} {v}" for k, v in i.heartbeat.versions.items()), 300),
    }
    for component in status.components
    for i in component.instances
]
if rows:
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
else:
    st.info(
        "No process has sent a heartbeat yet: the app, `steward worker` and `steward serve` "
        "each beat every few seconds."
    )

st.subheader("Scheduled jobs")
lease = status.lease
if lease is not None and lease.holder:
    st.caption(md(f"Leader: {lease.holder} (lease token {lease.token}), renewed {when(lease.renewed_at)}."))
if status.jobs:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Job": job.job,
                    "Every": seconds_in_words(job.every.total_seconds()) if job.every else "",
                    "Status": f"{ICON[job.health]} {plain(job.reason, 200)}",
                    "Last slot": when(job.last.slot) if job.last else "",
                    "Last result": job.last.status if job.last else "",
                    "Worker": plain(job.last.worker, 100) if job.last else "",
                    "Next run": when(job.next_at),
                    "Runs (24 h)": job.runs_24h,
                    "Failed (24 h)": job.failed_24h,
                    "Missed slots (24 h)": job.missed_24h,
                    "Detail": plain(job.last.detail, 300) if job.last else "",
                }
                for job in status.jobs
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    with st.expander("Recent runs"):
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Job": run.job,
                        "Slot": when(run.slot),
                        "Worker": plain(run.worker, 100),
                        "Status": run.status,
                        "Attempt": run.attempt,
                        "Finished": when(run.finished_at),
                        "Detail": plain(run.detail, 300),
                    }
                    for run in steward.jobs.recent(30)
                ]
            ),
            hide_index=True,
            width="stretch",
        )
else:
    st.info("The worker has not run any job yet: `make demo` starts it, or run `steward worker`.")

st.subheader("The last day")
since = steward.ctx.clock.now() - timedelta(hours=24)
processes_tab, probes_tab = st.tabs(["Processes and hosts", "Database and storage"])
with processes_tab:
    samples = steward.heartbeats.history(since)
    if samples:
        st.plotly_chart(process_history_figure(samples), width="stretch")
    else:
        st.caption("No heartbeat history yet.")
with probes_tab:
    probe_samples = steward.infrastructure.probe_history(since)
    if probe_samples:
        st.plotly_chart(probe_history_figure(probe_samples), width="stretch")
    else:
        st.caption("No probe history yet: the worker records the probes every minute or so.")
st.caption("One sample per process and probe per minute, kept for a day (STEWARD_INFRA_HISTORY_HOURS).")

host = steward.infrastructure.host()
st.subheader("This app's host, now")
cols = st.columns(4)
cols[0].metric("CPU", f"{host.cpu_percent:.0f} %", help=f"{host.cpu_count} cores")
cols[1].metric("Load (1 min)", f"{host.load_1m:.2f}", help=f"{host.load_1m / host.cpu_count:.2f} per core")
cols[2].metric("Memory used", f"{host.memory_percent:.0f} %")
cols[3].metric("Memory", f"{host.memory_total_gb} GB")
st.caption(
    "Read live by the app process; the Compute rows above judge the same figures sustained over minutes."
)
