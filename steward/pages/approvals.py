"""Approvals: promotion requests waiting for the sign-off of a role you hold, with their evidence.

Approve or reject with a comment; see what you decided before and download
the release certificate of what went live. The service decides whether your
signature counts (you never sign your own request; one person fills one seat).
"""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from steward.app.ui.evidence import headline, missing_phrase, render_evidence
from steward.app.ui.guard import attempt, require
from steward.app.ui.text import md, plain, when
from steward.core.domain.permissions import APPROVERS, Action, is_allowed
from steward.core.domain.promotions import Decision, RequestStatus, certificate_file_name

page = require(Action.VIEW_APPROVALS)
steward, actor = page.steward, page.actor
st.title("Approvals")
signing_roles = sorted(role.label.lower() for role in actor.roles & APPROVERS)


waiting = steward.promotions.awaiting(actor) if signing_roles else []
if signing_roles:
    st.caption(f"Promotion requests waiting for a {md(' or '.join(signing_roles))} sign-off.")
else:
    st.caption(
        "You hold no role that signs off promotions; you can follow what is waiting and what was decided."
    )

# ---- waiting for me -------------------------------------------------------------------------
if signing_roles:
    st.subheader(f"Waiting for you ({len(waiting)})")
    if not waiting:
        st.info("Nothing waits for your sign-off right now.")
for evidence in waiting:
    request = evidence.request
    with st.container(border=True):
        st.markdown(f"#### {headline(evidence)}")
        render_evidence(evidence, key=f"approve_{request.id}")
        with st.form(f"decide_{request.id}", clear_on_submit=True):
            comment = st.text_area(
                "Your comment (required to reject; goes into the audit log and the release certificate)",
                key=f"comment_{request.id}",
                max_chars=4000,
            )
            approve, reject, _ = st.columns([1, 1, 3])
            if approve.form_submit_button("Approve", type="primary"):
                attempt(
                    partial(
                        steward.promotions.approve,
                        actor,
                        request.id,
                        comment,
                        expected_version=request.version,
                    ),
                    lambda r: (
                        f"You approved request #{r.id} ({r.label})"
                        + (": it deployed itself" if r.status is RequestStatus.EXECUTED else "")
                    ),
                )
            if reject.form_submit_button("Reject"):
                attempt(
                    partial(
                        steward.promotions.reject,
                        actor,
                        request.id,
                        comment,
                        expected_version=request.version,
                    ),
                    lambda r: f"You rejected request #{r.id} ({r.label})",
                )

# ---- signed off: ready for whoever deploys ----------------------------------------------------
in_flight = steward.promotions.list(status=RequestStatus.PENDING)
ready = [
    evidence
    for evidence in (steward.promotions.evidence(r.id) for r in in_flight)
    if evidence.ready and is_allowed(actor.roles, Action.EXECUTE_PROMOTION, evidence.request.tier)
]
if ready:
    st.subheader(f"Signed off, ready for you to deploy ({len(ready)})")
for evidence in ready:
    request = evidence.request
    with st.container(border=True):
        st.markdown(f"#### {headline(evidence)}")
        signers = ", ".join(f"{name} ({role.label.lower()})" for name, role in evidence.signoff.counted)
        st.markdown(
            f"Sign-off complete ({md(signers or 'none needed')}) and every gate passed. "
            "Deploying moves the pointer, arms the version serving now as the fallback and writes the ledger."
        )
        with st.expander("Evidence", key=f"ready_evidence_{request.id}"):
            render_evidence(evidence, key=f"ready_{request.id}", charts=False)
        if st.button(
            f"Deploy {request.pipeline_name} v{request.version_number} to {request.environment_name}",
            type="primary",
            key=f"deploy_{request.id}",
        ):
            attempt(
                partial(steward.promotions.execute, actor, request.id, expected_version=request.version),
                lambda e: (
                    f"{e.pipeline_name} v{e.version_number} now serves in {e.environment_name} "
                    f"(ledger entry #{e.id})"
                ),
            )

# ---- everything else in flight --------------------------------------------------------------
shown_above = {e.request.id for e in waiting} | {e.request.id for e in ready}
others = [r for r in in_flight if r.id not in shown_above]
st.subheader("Other requests in flight" if waiting or ready else "Requests in flight")
if not others:
    st.caption("None.")
else:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Request": f"#{r.id}",
                    "What": plain(f"{r.pipeline_name} v{r.version_number} to {r.environment_name}"),
                    "Asked by": plain(r.requested_by_name),
                    "When": when(r.requested_at),
                    "Status": plain(missing_phrase(steward.promotions.evidence(r.id))),
                    "Signed by": plain(
                        ", ".join(a.approver_name for a in r.approvals if a.decision is Decision.APPROVE)
                    )
                    or "nobody yet",
                }
                for r in others
            ]
        ),
        hide_index=True,
    )
    if any(r.requested_by == actor.username for r in others):
        st.caption("Your own requests wait for others: you never sign off what you asked for.")
    chosen = st.selectbox(
        "Look at the evidence of",
        [r.id for r in others],
        format_func=lambda i: next(f"#{r.id} {r.label}" for r in others if r.id == i),
        key="other_choice",
    )
    with st.expander("Evidence", expanded=False, key=f"other_evidence_{chosen}"):
        render_evidence(steward.promotions.evidence(int(chosen)), key=f"other_{chosen}")

# ---- what I decided ---------------------------------------------------------------------------
decisions = steward.promotions.decisions_by(actor.username)
if signing_roles or decisions:
    st.subheader("Your decisions")
if not decisions and signing_roles:
    st.caption("You have not signed or rejected anything yet.")
elif decisions:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Request": f"#{r.id}",
                    "What": plain(f"{r.pipeline_name} v{r.version_number} to {r.environment_name}"),
                    "You": "approved" if a.decision is Decision.APPROVE else "rejected",
                    "When": when(a.decided_at),
                    "Your comment": plain(a.comment, limit=200),
                    "Request now": r.status.value,
                }
                for r, a in decisions
            ]
        ),
        hide_index=True,
    )
    executed = {r.id: r for r, _ in decisions if r.status is RequestStatus.EXECUTED}
    if executed:
        pick = st.selectbox(
            "Release certificate of",
            list(executed),
            format_func=lambda i: f"#{i} {executed[i].label}",
            key="cert_choice",
        )
        entry = steward.promotions.executed_for(int(pick))
        if entry is not None:
            c1, c2, _ = st.columns([1, 1, 2])
            c1.download_button(
                "Release certificate (HTML)",
                data=partial(steward.promotions.certificate_html, entry.id),
                file_name=certificate_file_name(entry, "html"),
                mime="text/html",
                on_click="ignore",
                key=f"my_cert_html_{entry.id}",
            )
            c2.download_button(
                "Release certificate (PDF)",
                data=partial(steward.promotions.certificate_pdf, entry.id),
                file_name=certificate_file_name(entry, "pdf"),
                mime="application/pdf",
                on_click="ignore",
                key=f"my_cert_pdf_{entry.id}",
            )
