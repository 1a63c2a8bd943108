"""The Deployments page's shadow and canary panel in AppTest on the seeded demo: start a shadow by
click, see it running with its live comparison, end it by click; both ends audited. A viewer sees no
panel, and a canary of a version without its Test sign-offs is refused on the page in one line."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from steward.core.domain.rollouts import RolloutStatus
from steward.core.services.rollouts import RolloutService
from steward.core.steward import Steward
from testkit import REPO_ROOT, demo_tokens

pytestmark = pytest.mark.xdist_group("app_rollouts")
ENTRYPOINT = str(REPO_ROOT / "steward" / "app" / "streamlit_app.py")
WHERE = "Test · credit-default"


@pytest.fixture(scope="module")
def demo(demo_steward: Steward) -> tuple[Steward, dict[str, str]]:
    return demo_steward, demo_tokens(demo_steward)


def open_panel(token: str) -> AppTest:
    at = AppTest.from_file(ENTRYPOINT, default_timeout=60)
    at.session_state["steward_token"] = token
    at.run()
    at.switch_page("../pages/deployments.py").run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    kinds = ("subheader", "markdown", "caption", "success", "error", "warning", "info")
    return "\n".join(str(getattr(e, "value", "")) for kind in kinds for e in at.get(kind)).replace("\\", "")


def test_a_viewer_gets_no_rollout_panel(demo):
    _steward, tokens = demo
    at = open_panel(tokens["vera"])
    assert "Shadow and canary" not in [h.value for h in at.subheader]


def test_an_operator_starts_a_shadow_watches_it_and_ends_it_by_click(demo):
    steward, tokens = demo
    rollouts = RolloutService(steward.ctx)
    at = open_panel(tokens["otto"])
    assert "Shadow and canary" in [h.value for h in at.subheader]
    at.selectbox(key="rollout_choice").select(WHERE).run()
    form = "rollout_Test_credit-default"
    at.radio(key=f"{form}_kind").set_value("shadow")
    at.selectbox(key=f"{form}_version").select(1)
    at.text_input(key=f"{form}_reason").input("compare v1 on live traffic")
    next(b for b in at.button if b.label == "Start").click().run()
    assert not at.exception, at.exception
    active = rollouts.current("Test", "credit-default")
    assert active is not None and active.challenger_number == 1 and active.started_by == "otto"
    started = steward.audit.recent(1)[0]
    assert (started.action, started.actor) == ("rollout.started", "otto")
    assert "Shadow running" in texts(at), texts(at)
    assert "answers are logged and compared, never returned" in texts(at)

    at.text_input(key=f"rollout_end_reason_{active.id}").input("seen enough")
    at.button(key=f"rollout_end_{active.id}").click().run()
    assert not at.exception, at.exception
    assert rollouts.get(active.id).status is RolloutStatus.ENDED
    ended = steward.audit.recent(1)[0]
    assert (ended.action, ended.actor) == ("rollout.ended", "otto") and "seen enough" in ended.detail
    assert "alone serves again" in texts(at)


def test_a_canary_without_the_versions_sign_offs_is_refused_in_one_line(demo):
    steward, tokens = demo
    at = open_panel(tokens["otto"])
    at.selectbox(key="rollout_choice").select(WHERE).run()
    form = "rollout_Test_credit-default"
    at.radio(key=f"{form}_kind").set_value("canary")
    at.selectbox(key=f"{form}_version").select(1)
    next(b for b in at.button if b.label == "Start").click().run()
    assert not at.exception, at.exception
    errors = [str(e.value) for e in at.error]
    assert len(errors) == 1 and "sign-offs complete" in errors[0].replace("\\", ""), errors
    assert RolloutService(steward.ctx).current("Test", "credit-default") is None
