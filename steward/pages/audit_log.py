"""Audit log: every access and change, filterable, exportable, verifiable."""

import json
from datetime import UTC, datetime, time, timedelta

import pandas as pd
import streamlit as st

from steward.app.ui.guard import require
from steward.app.ui.text import md, plain, when
from steward.core.domain.permissions import Action, is_allowed
from steward.core.errors import StewardError
from steward.core.services.audit import AuditFilter, AuditPage

PAGE_SIZE = 50
page = require(Action.VIEW_AUDIT)
audit = page.steward.audit

st.title("Audit log")
st.caption("Sign-ins, sign-outs, failed attempts, refusals and every change of state, hash-chained.")

choices = audit.distinct_values(page.actor)
with st.expander("Filters", expanded=True):
    c1, c2, c3, c4 = st.columns(4)
    actor = c1.selectbox("User", ["(any)", *choices["actor"]], key="audit_actor")
    action_prefixes = sorted({a.split(".")[0] + "." for a in choices["action"]} | set(choices["action"]))
    action = c2.selectbox("Action", ["(any)", *action_prefixes], key="audit_action")
    object_type = c3.selectbox("Object type", ["(any)", *choices["object_type"]], key="audit_object_type")
    object_id = c4.text_input("Object id", key="audit_object_id")
    d1, d2, d3 = st.columns([1, 1, 2])
    since = d1.date_input("From (UTC)", value=None, key="audit_since")
    until = d2.date_input("To (UTC, inclusive)", value=None, key="audit_until")
    outcome = d3.segmented_control("Outcome", ["ok", "denied", "failed"], key="audit_outcome")

filters = AuditFilter(
    actor="" if actor == "(any)" else actor,
    action="" if action == "(any)" else action,
    object_type="" if object_type == "(any)" else object_type,
    object_id=object_id.strip(),
    outcome=outcome or "",
    since=datetime.combine(since, time.min, tzinfo=UTC) if since else None,
    until=datetime.combine(until, time.min, tzinfo=UTC) + timedelta(days=1) if until else None,
)

total_pages_key = "audit_page"


def listed(page_number: int) -> AuditPage:
    """One page of events; filters the service refuses (a range ending before it starts) say why and stop."""
    try:
        return audit.list(page.actor, filters, limit=PAGE_SIZE, offset=page_number * PAGE_SIZE)
    except StewardError as problem:
        st.error(md(str(problem), limit=1000))
        st.stop()


result = listed(st.session_state.get(total_pages_key, 0))
pages = max(1, -(-result.total // PAGE_SIZE))
if st.session_state.get(total_pages_key, 0) >= pages:
    st.session_state[total_pages_key] = 0
    result = listed(0)

st.write(f"{result.total} matching events")
if not result.events:
    st.info("No events match these filters.")
else:
    frame = pd.DataFrame(
        [
            {
                "#": e.seq,
                "When": when(e.occurred_at),
                "Who": plain(e.actor, 200),
                "Action": e.action,
                "Object": plain(f"{e.object_type}:{e.object_id}" if e.object_type else e.object_id, 200),
                "Outcome": e.outcome.value,
                "Detail": plain(e.detail, 300),
                "Source": plain(e.source),
            }
            for e in result.events
        ]
    )
    selection = st.dataframe(
        frame, hide_index=True, on_select="rerun", selection_mode="single-row", key="audit_table"
    )
    if pages > 1:
        st.number_input(
            "Page",
            min_value=0,
            max_value=pages - 1,
            key=total_pages_key,
            help=f"{pages} pages of {PAGE_SIZE}, newest first",
        )
    rows = selection.selection.rows if selection else []
    if rows:
        event = result.events[rows[0]]
        st.subheader(f"Event #{event.seq}")
        left, right = st.columns(2)
        left.caption("Before")
        left.code(
            plain(json.dumps(event.before, indent=2, ensure_ascii=False), 50_000) if event.before else "-",
            language="json",
        )
        right.caption("After")
        right.code(
            plain(json.dumps(event.after, indent=2, ensure_ascii=False), 50_000) if event.after else "-",
            language="json",
        )
        st.code(
            f"hash      {event.hash}\nprev_hash {event.prev_hash}\nevent_id  {event.event_id}", language=None
        )

st.divider()
left, right = st.columns(2)
with left:
    st.subheader("Integrity")
    if st.button("Verify the chain", key="audit_verify"):
        verdict = audit.verify()
        (st.success if verdict.ok else st.error)(verdict.summary())
with right:
    st.subheader("Export")
    if is_allowed(page.actor.roles, Action.EXPORT_AUDIT):
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        c1, c2 = st.columns(2)
        c1.download_button(
            "CSV",
            lambda: audit.export(page.actor, filters, fmt="csv"),
            file_name=f"steward-audit-{stamp}.csv",
            mime="text/csv",
            key="export_csv",
        )
        c2.download_button(
            "JSON",
            lambda: audit.export(page.actor, filters, fmt="json"),
            file_name=f"steward-audit-{stamp}.json",
            mime="application/json",
            key="export_json",
        )
        st.caption(
            "Exports follow the filters above; spreadsheet formulas are neutralised. Each export is audited."
        )
    else:
        st.caption("Exports are for risk officers and admins.")
