"""Challenger against champion and retrain policies in AppTest, on the seeded demo.

An operator compares the demo's retrained bike-demand v2 with v1 serving in
Dev from the version's card, sees both charts and requests the promotion; a
data scientist reviewing that request on Approvals sees the same comparison;
the operator sets a retrain policy on the Retrain tab; a viewer sees neither
form.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from steward.core.domain.accounts import Actor
from steward.core.domain.gates import GatePolicy
from steward.core.domain.roles import Role
from steward.core.domain.signoff import SignoffPolicy
from steward.core.steward import Steward
from testkit import REPO_ROOT, demo_tokens

ENTRYPOINT = str(REPO_ROOT / "steward" / "app" / "streamlit_app.py")
SYSTEM = Actor.system_actor("test")


@pytest.fixture(scope="module")
def demo(demo_steward: Steward) -> tuple[Steward, dict[str, str]]:
    return demo_steward, demo_tokens(demo_steward)


def open_page(token: str, page: str, **query: str) -> AppTest:
    at = AppTest.from_file(ENTRYPOINT, default_timeout=180)
    at.session_state["steward_token"] = token
    at.run()
    at.query_params.update(query)
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def text_of(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info]
    return re.sub(r"\\(.)", r"\1", "\n".join(parts))


def flashes(at: AppTest) -> str:
    return re.sub(r"\\(.)", r"\1", "\n".join(s.value for s in at.success))


def traces(at: AppTest) -> list[dict[str, Any]]:
    return [trace for chart in at.get("plotly_chart") for trace in json.loads(chart.proto.spec)["data"]]


def button(at: AppTest, label: str) -> Any:
    return next(b for b in at.button if b.label == label)


def submit(at: AppTest, label: str) -> Any:
    return next(b for b in at.get("form_submit_button") if b.label == label)


def test_an_operator_compares_on_the_card_and_a_reviewer_sees_it_on_approvals(demo):
    steward, tokens = demo
    steward.promotions.set_policy(  # Dev asks a data scientist, so the request waits on Approvals
        SYSTEM,
        "Dev",
        SignoffPolicy.build({Role.DATA_SCIENTIST: 1}, approval_ttl=timedelta(hours=12), auto_execute=True),
        GatePolicy(require_no_critical_alert=False),
    )
    at = open_page(tokens["otto"], "../pages/pipelines.py", pipeline="bike-demand", version="2")
    assert "v2 against the serving version, on the same rows" in text_of(at)
    at.selectbox(key="cmp_env").select("Dev")
    at.selectbox(key="cmp_ds").select("bike/production_2012")
    at.selectbox(key="cmp_labels").select("bike/labels_2012")
    at.text_input(key="cmp_id").input("instant")
    submit(at, "Compare with the serving version").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    h2h = steward.head_to_head.latest("bike-demand", 2, "Dev")
    assert h2h is not None and h2h.compared_by == "otto" and h2h.champion_number == 1
    rmse = h2h.metric("rmse")
    assert rmse is not None and rmse.verdict == "challenger"
    assert f"Comparison #{h2h.id} recorded" in flashes(at), flashes(at)

    shown = text_of(at)
    assert "Challenger v2 against serving v1 in Dev" in shown and "the challenger is better" in shown
    drawn = traces(at)
    difference = next(t for t in drawn if t.get("name") == "rmse difference")
    assert difference["x"] == [pytest.approx(rmse.difference)]
    assert difference["error_x"]["array"] == [pytest.approx(rmse.ci_high - rmse.difference)]
    changed = next(t for t in drawn if t.get("name") == "answers changed")
    top = h2h.decisions.segments[0]
    assert changed["text"][0] == f"{top.changed:,} of {top.rows:,}"

    at.text_input(key=f"h2h_reason_{h2h.id}").input("Beats v1 on the same 2012 rows")
    button(at, "Request promotion of v2 to Dev").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    request = next(
        r for r in steward.promotions.list() if r.version_number == 2 and r.pipeline_name == "bike-demand"
    )
    assert request.status.value == "pending" and request.reason == "Beats v1 on the same 2012 rows"

    review = open_page(tokens["dana"], "../pages/approvals.py")
    seen = text_of(review)
    assert "Challenger v2 against serving v1 in Dev" in seen
    assert rmse.sentence().split(" (")[0] in seen
    assert any(t.get("name") == "rmse difference" for t in traces(review))


def test_an_operator_sets_a_retrain_policy_and_a_viewer_gets_no_form(demo):
    steward, tokens = demo
    at = open_page(tokens["otto"], "../pages/pipelines.py", pipeline="bike-demand", version="2")
    assert "No retrain policy" in text_of(at)
    at.selectbox(key="rp_dataset").select("bike/production_2012")
    at.selectbox(key="rp_labels").select("bike/labels_2012")
    at.text_input(key="rp_id").input("instant")
    at.number_input(key="rp_windows").set_value(3)
    submit(at, "Save the retrain policy").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    policy = steward.retrain_policies.get("bike-demand")
    assert policy is not None and policy.drift_windows == 3 and policy.updated_by == "otto"
    assert "Retrain policy saved" in flashes(at), flashes(at)
    assert policy.describe() in text_of(at)

    viewer = open_page(tokens["vera"], "../pages/pipelines.py", pipeline="bike-demand", version="2")
    assert "Save the retrain policy" not in [b.label for b in viewer.get("form_submit_button")]
    assert "Compare with the serving version" not in [b.label for b in viewer.get("form_submit_button")]
