"""Approvals: promotion requests waiting for the sign-off of a role you hold, with their evidence.

Approve or reject with a comment; see what you decided before and download
the release certificate of what went live. The service decides whether your
signature counts (you never sign your own request; one person fills one seat)
and what goes where on this page: it is one read (``steward.promotions.board``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pandas as pd
import streamlit as st

from steward.app.ui.confirm import fresh, reset
from steward.app.ui.deployment_controls import deploy_control
from steward.app.ui.evidence import card_links, headline, missing_phrase, render_evidence
from steward.app.ui.guard import attempt, require
from steward.app.ui.head_to_head import render_head_to_head
from steward.app.ui.text import md, plain, when
from steward.core.domain.permissions import Action
from steward.core.domain.promotions import PromotionRequest, certificate_file_name

page = require(Action.VIEW_APPROVALS)
steward, actor = page.steward, page.actor
board = steward.promotions.board(actor)
st.title("Approvals")


def what(request: PromotionRequest) -> str:
    return plain(f"{request.pipeline_name} v{request.version_number} to {request.environment_name}")


def after(form: str, message: Callable[[PromotionRequest], str], request: PromotionRequest) -> str:
    """A decision made: the form starts empty next time (no old comment, no ticked box)."""
    reset(form)
    return message(request)


def approved_message(request: PromotionRequest) -> str:
    done = ": it deployed itself" if request.executed else ""
    return f"You approved request #{request.id} ({request.label}){done}"


signing_roles = " or ".join(sorted(role.label.lower() for role in board.signing_roles))
if board.signs:
    st.caption(f"Promotion requests waiting for a {md(signing_roles)} sign-off.")
    st.subheader(f"Waiting for you ({len(board.waiting)})")
    if not board.waiting:
        st.info("Nothing waits for your sign-off right now.")
else:
    st.caption(
        "You hold no role that signs off promotions; you can follow what is waiting and what was decided."
    )

# ---- waiting for me -------------------------------------------------------------------------
for evidence in board.waiting:
    request = evidence.request
    with st.container(border=True):
        st.markdown(f"#### {headline(evidence)}")
        render_evidence(evidence, key=f"approve_{request.id}")
        render_head_to_head(evidence.head_to_head, key=f"approve_{request.id}")
        card_links(actor, evidence)
        form = f"decide_{request.id}"
        with st.form(form):
            comment = st.text_area(
                "Your comment (required to reject; goes into the audit log and the release certificate)",
                key=fresh(form, f"comment_{request.id}"),
                max_chars=4000,
            )
            sure = st.checkbox(
                f"Yes, approve {request.pipeline_name} v{request.version_number} "
                f"for {request.environment_name}",
                key=fresh(form, f"approve_confirm_{request.id}"),
            )
            approve, reject, _ = st.columns([1, 1, 3])
            if approve.form_submit_button("Approve", type="primary"):
                if not sure:
                    st.error(
                        f"Tick “Yes, approve {request.pipeline_name} v{request.version_number} for "
                        f"{request.environment_name}” first: nothing was signed."
                    )
                else:
                    attempt(
                        partial(
                            steward.promotions.approve,
                            actor,
                            request.id,
                            comment,
                            expected_version=request.version,
                        ),
                        partial(after, form, approved_message),
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
                    partial(after, form, lambda r: f"You rejected request #{r.id} ({r.label})"),
                )

# ---- signed off: ready for whoever deploys ----------------------------------------------------
if board.ready:
    st.subheader(f"Signed off, ready for you to deploy ({len(board.ready)})")
for evidence in board.ready:
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
        card_links(actor, evidence)
        champion = evidence.champion
        deploy_control(
            steward,
            actor,
            request,
            champion.number if champion else None,
            lambda e: (
                f"{e.pipeline_name} v{e.version_number} now serves in {e.environment_name} "
                f"(ledger entry #{e.id})"
            ),
            key=f"deploy_{request.id}",
        )

# ---- everything else in flight --------------------------------------------------------------
st.subheader("Other requests in flight" if board.waiting or board.ready else "Requests in flight")
if not board.others:
    st.caption("None.")
else:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Request": f"#{e.request.id}",
                    "What": what(e.request),
                    "Asked by": plain(e.request.requested_by_name),
                    "When": when(e.request.requested_at),
                    "Status": plain(missing_phrase(e)),
                    "Signed by": plain(", ".join(e.request.signers)) or "nobody yet",
                }
                for e in board.others
            ]
        ),
        hide_index=True,
    )
    if board.own_requests_waiting:
        st.caption("Your own requests wait for others: you never sign off what you asked for.")
    labels = {e.request.id: f"#{e.request.id} {e.request.label}" for e in board.others}
    chosen = st.selectbox(
        "Look at the evidence of", list(labels), format_func=lambda i: labels[i], key="other_choice"
    )
    picked = board.other(int(chosen))
    if picked is not None:
        with st.expander("Evidence", expanded=False, key=f"other_evidence_{chosen}"):
            render_evidence(picked, key=f"other_{chosen}")
            render_head_to_head(picked.head_to_head, key=f"other_{chosen}")

# ---- what I decided ---------------------------------------------------------------------------
if board.signs or board.decisions:
    st.subheader("Your decisions")
if not board.decisions and board.signs:
    st.caption("You have not signed or rejected anything yet.")
elif board.decisions:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Request": f"#{r.id}",
                    "What": what(r),
                    "You": a.decision.done,
                    "When": when(a.decided_at),
                    "Your comment": plain(a.comment, limit=200),
                    "Request now": r.status.value,
                }
                for r, a in board.decisions
            ]
        ),
        hide_index=True,
    )
    if board.certificates:
        released = {
            request_id: f"#{request_id} {e.pipeline_name} {e.label} to {e.environment_name}"
            for request_id, e in board.certificates.items()
        }
        pick = st.selectbox(
            "Release certificate of", list(released), format_func=lambda i: released[i], key="cert_choice"
        )
        entry = board.certificates[int(pick)]
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
