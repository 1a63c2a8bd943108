"""Deployments and Approvals pages, and the policy editor, in Streamlit's AppTest on the seeded demo.

The demo leaves credit-default v2 waiting for Prod with the data scientist's
signature; here the business stakeholder and the risk officer sign it on the
Approvals page and the operator deploys it on the Deployments page, each
signed in as themselves. The tests run in order on one worker (one database).
"""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from steward.core.domain.promotions import RequestStatus
from steward.core.steward import Steward
from testkit import REPO_ROOT, demo_tokens

pytestmark = pytest.mark.xdist_group("app_promotions")
ENTRYPOINT = str(REPO_ROOT / "steward" / "app" / "streamlit_app.py")


@pytest.fixture(scope="module")
def demo(demo_steward: Steward) -> tuple[Steward, dict[str, str]]:
    """This module's copy of the seeded demo and a fresh session token per demo user."""
    return demo_steward, demo_tokens(demo_steward)


def open_page(token: str, page: str) -> AppTest:
    at = AppTest.from_file(ENTRYPOINT, default_timeout=60)
    at.session_state["steward_token"] = token
    at.run()
    at.switch_page(f"../pages/{page}").run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    parts = [
        str(getattr(e, "value", ""))
        for kind in ("title", "subheader", "markdown", "caption", "info", "success", "error", "warning")
        for e in at.get(kind)
    ]
    parts += [frame.value.to_string() for frame in at.dataframe]
    return "\n".join(parts)


def pending_prod(steward: Steward):
    return next(
        r for r in steward.promotions.list(status=RequestStatus.PENDING) if r.environment_name == "Prod"
    )


def test_deployments_page_shows_what_serves_the_ledger_and_the_timeline(demo):
    _steward, tokens = demo
    at = open_page(tokens["vera"], "deployments.py")
    text = texts(at)
    assert "Serving now" in text and "Ledger" in text
    assert "credit-default" in text and "waiting for sign-off from 1 business stakeholder" in text
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    lanes = {trace["y"][0] for trace in figure["data"]}
    assert {"Dev · credit-default", "Test · credit-default", "Dev · bike-demand"} <= lanes
    # A viewer sees, but gets no controls.
    assert not [b for b in at.button if b.label.startswith(("Deploy", "Request", "Roll back"))]


def test_approvals_page_for_a_risk_officer_shows_evidence_in_words_and_charts(demo):
    _steward, tokens = demo
    at = open_page(tokens["rick"], "approvals.py")
    text = texts(at)
    assert "Waiting for you (1)" in text
    assert "Dana Scientist" in text and "credit\\-default v2" in text
    assert "Still needed:" in text and "1 business stakeholder and 1 risk officer" in text
    charts = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    assert any("Hold-out metrics" in c["layout"]["title"]["text"] for c in charts)
    assert any("ROC" in c["layout"]["title"]["text"] for c in charts)


def test_rejecting_needs_a_comment(demo):
    steward, tokens = demo
    at = open_page(tokens["bea"], "approvals.py")
    reject = next(b for b in at.button if b.label == "Reject")
    reject.click().run()
    assert any("a rejection needs a comment" in e.value for e in at.error)
    assert pending_prod(steward).open


def test_business_and_risk_sign_then_the_operator_deploys_and_the_certificate_names_everyone(demo):
    steward, tokens = demo
    request = pending_prod(steward)
    for name in ("bea", "rick"):
        before = len(pending_prod(steward).signers)
        at = open_page(tokens[name], "approvals.py")
        at.text_area(key=f"comment_{request.id}").input(f"{name}: signed after reading the evidence")
        next(b for b in at.button if b.label == "Approve").click().run()
        assert any("Tick “Yes, approve credit-default v2 for Prod” first" in e.value for e in at.error)
        assert len(pending_prod(steward).signers) == before, "an unticked approval signs nothing"
        assert at.text_area(key=f"comment_{request.id}").value, "a refused click keeps the comment"
        at.checkbox(key=f"approve_confirm_{request.id}").check()
        next(b for b in at.button if b.label == "Approve").click().run()
        assert not at.exception, at.exception
        assert any("You approved request" in s.value for s in at.success), texts(at)
    at = open_page(tokens["rick"], "approvals.py")
    assert "Nothing waits for your sign-off" in texts(at)
    assert "rick: signed after reading the evidence" in texts(at)  # "Your decisions"

    at = open_page(tokens["otto"], "deployments.py")
    deploy = next(b for b in at.button if b.label == "Deploy credit-default v2 to Prod")
    assert deploy.disabled, "deploying waits for the box naming what will serve where"
    [sure] = [c for c in at.checkbox if c.key == "deploy_confirm"]
    assert sure.label == "Yes, make credit-default v2 serve Prod (nothing serves there yet)"
    sure.check().run()
    deploy = next(b for b in at.button if b.label == "Deploy credit-default v2 to Prod")
    assert not deploy.disabled
    deploy.click().run()
    assert not at.exception, at.exception
    assert any("now serves in Prod" in s.value for s in at.success), texts(at)
    [prod] = steward.deployments.serving("Prod")
    assert prod.version_number == 2 and prod.decided_by == "Otto Operator"
    html = steward.promotions.certificate_html(prod.ledger_entry_id)
    for person in ("Dana Scientist", "Sam Scientist", "Bea Business", "Rick Risk", "Otto Operator"):
        assert person in html
    labels = [b.label for b in at.get("download_button")]
    assert "Release certificate (HTML)" in labels and "Release certificate (PDF)" in labels


def test_a_data_scientist_may_not_roll_back_prod_but_the_operator_may(demo):
    steward, tokens = demo
    at = open_page(tokens["dana"], "deployments.py")
    test_entries = [e for e in steward.deployments.ledger("Test") if e.version_number == 1]
    at.selectbox(key="ledger_entry").select(test_entries[0].id).run()
    [rollback] = [b for b in at.button if b.label == "Roll back to v1"]  # Test: data scientists may
    assert rollback.disabled, "rolling back waits for the box naming both versions"
    [sure] = [c for c in at.checkbox if c.key == f"rollback_confirm_{test_entries[0].id}"]
    assert sure.label.startswith(f"Yes, make {test_entries[0].pipeline_name} v1 serve Test instead of v")
    prod_entry = steward.deployments.ledger("Prod")[0]
    at.selectbox(key="ledger_entry").select(prod_entry.id).run()
    assert not any(b.label.startswith("Roll back") for b in at.button)


def test_requesting_a_promotion_from_the_page(demo):
    steward, tokens = demo
    at = open_page(tokens["dana"], "deployments.py")
    at.selectbox(key="req_pipeline").select("bike-demand").run()
    assert at.selectbox(key="req_env").options == ["Dev"], "v2 (retrained, the latest) has served nowhere yet"
    assert at.selectbox(key="req_env").value is None, "no environment is chosen for you"
    assert next(b for b in at.button if b.label == "Request promotion").disabled
    at.selectbox(key="req_version").select(1).run()
    at.selectbox(key="req_env").select("Test").run()
    at.text_area(key="req_reason").input("bike v1 for the operations team's checks").run()
    next(b for b in at.button if b.label == "Request promotion").click().run()
    assert not at.exception, at.exception
    assert any("made" in s.value and "bike" in s.value for s in at.success), texts(at)
    assert any(
        r.label == "bike-demand v1 to Test" for r in steward.promotions.list(status=RequestStatus.PENDING)
    )
    # The form starts afresh: no old reason, no environment preselected, back on the first pipeline.
    [reason] = [t for t in at.text_area if t.label.startswith("Why (the reviewers")]
    assert reason.value == ""
    [environment] = [s for s in at.selectbox if s.label == "To"]
    assert environment.value is None


def _editor_app() -> None:
    # AppTest.from_function runs only this body: every import it needs must be in here.
    import streamlit as st

    from steward.app.ui.policies import render_policy_editor
    from steward.app.ui.runtime import get_steward

    steward = get_steward()
    render_policy_editor(steward, steward.auth.resume(st.session_state["steward_token"], source=""))


def test_policy_editor_changes_a_policy_and_the_audit_log_records_it(demo):
    steward, tokens = demo
    at = AppTest.from_function(_editor_app, default_timeout=60)
    at.session_state["steward_token"] = tokens["admin"]
    at.run()
    assert not at.exception, at.exception
    at.selectbox(key="policy_editor_env").select("Test").run()
    test = steward.promotions.policy("Test")
    prefix = f"policy_editor_{test.environment_id}_{test.version}"
    at.number_input(key=f"{prefix}_risk_officer").set_value(1).run()
    at.number_input(key=f"{prefix}_ttl").set_value(24).run()
    next(b for b in at.button if b.label == "Save the policy of Test").click().run()
    assert not at.exception, at.exception
    changed = steward.promotions.policy("Test")
    assert changed.signoff.describe() == "1 data scientist and 1 risk officer"
    event = steward.audit.recent(1)[0]
    assert event.action == "policy.update" and event.actor == "admin"


def test_the_policy_editor_refuses_a_non_admin(demo):
    _steward, tokens = demo
    at = AppTest.from_function(_editor_app, default_timeout=60)
    at.session_state["steward_token"] = tokens["rick"]
    at.run()
    next(b for b in at.button if b.label.startswith("Save the policy")).click().run()
    assert any("may not" in e.value for e in at.error)
