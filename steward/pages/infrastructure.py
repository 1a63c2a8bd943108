"""Infrastructure: is storage and compute up?"""

import pandas as pd
import streamlit as st

from steward.app.ui.guard import require
from steward.app.ui.text import plain, when
from steward.core.domain.permissions import Action

page = require(Action.VIEW_INFRASTRUCTURE)
st.title("Infrastructure")

STATUS = {"up": "🟢 up", "degraded": "🟠 degraded", "down": "🔴 down"}
probes = page.steward.infrastructure.probes()
st.dataframe(
    pd.DataFrame(
        [
            {
                "Component": p.name,
                "Status": STATUS.get(p.status, p.status),
                "Reading": f"{p.value} {p.unit}" if p.value is not None else "",
                "Detail": plain(p.detail),
            }
            for p in probes
        ]
    ),
    hide_index=True,
)

host = page.steward.infrastructure.host()
cols = st.columns(4)
cols[0].metric("CPU", f"{host.cpu_percent:.0f} %", help=f"{host.cpu_count} cores")
cols[1].metric("Load (1 min)", f"{host.load_1m:.2f}")
cols[2].metric("Memory used", f"{host.memory_percent:.0f} %")
cols[3].metric("Memory", f"{host.memory_total_gb} GB")
st.caption("Readings are taken live by the app process when the page loads.")

st.subheader("Scheduled jobs")
jobs = page.steward.jobs.recent(20)
if jobs:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Job": j.job,
                    "Slot": when(j.slot),
                    "Worker": plain(j.worker),
                    "Status": j.status,
                    "Finished": when(j.finished_at),
                    "Detail": plain(j.detail, 300),
                }
                for j in jobs
            ]
        ),
        hide_index=True,
    )
else:
    st.info("The worker has not run any job yet: `make demo` starts it, or run `steward worker`.")
