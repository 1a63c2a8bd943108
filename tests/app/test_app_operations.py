"""Operating deployments from the pages, in AppTest on the seeded demo: fail over and back by click,
a load test by click (a real runner process sending real HTTP to a server on loopback), SLA targets
set on Service health. The tests run in order on one worker (one database)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from scoringstub import Behaviour, StubServer, scoring_stub
from streamlit.testing.v1 import AppTest

from steward.core.domain.loadtest import LoadTestStatus
from steward.core.domain.promotions import Deployment, LedgerKind
from steward.core.pipelines.schema import InputSchema
from steward.core.steward import Steward
from testkit import REPO_ROOT, demo_tokens

pytestmark = pytest.mark.xdist_group("app_operations")
ENTRYPOINT = str(REPO_ROOT / "steward" / "app" / "streamlit_app.py")
KEY = "apptest-load-test-key"


@pytest.fixture(scope="module")
def stub(demo_steward: Steward) -> Iterator[StubServer]:
    """The scoring endpoint on loopback; the app (and the runner it starts) find it through STEWARD_*."""
    with scoring_stub(Behaviour(version=2, api_key=KEY)) as server, pytest.MonkeyPatch.context() as patch:
        patch.setenv("STEWARD_SCORING_PORT", str(server.server_address[1]))
        patch.setenv("STEWARD_LOADTEST_API_KEY", KEY)
        yield server


@pytest.fixture(scope="module")
def demo(demo_steward: Steward, stub: StubServer) -> tuple[Steward, dict[str, str]]:
    return demo_steward, demo_tokens(demo_steward)


def open_page(token: str, page: str) -> AppTest:
    at = AppTest.from_file(ENTRYPOINT, default_timeout=60)
    at.session_state["steward_token"] = token
    at.run()
    at.switch_page(f"../pages/{page}").run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    kinds = ("subheader", "markdown", "caption", "success", "error", "warning", "info")
    return "\n".join(str(getattr(e, "value", "")) for kind in kinds for e in at.get(kind)).replace("\\", "")


def said(at: AppTest, kind: str, words: str) -> bool:
    """Whether a success or error message says ``words`` (messages are Markdown-escaped text)."""
    return any(words in str(e.value).replace("\\", "") for e in at.get(kind))


def credit_in(steward: Steward, environment: str = "Test") -> Deployment:
    return next(d for d in steward.deployments.serving(environment) if d.pipeline_name == "credit-default")


def key(deployment: Deployment, name: str) -> str:
    base = f"{name}_{deployment.environment_id}_{deployment.pipeline_id}"
    return f"{base}_{deployment.version}" if name.startswith("failover") else base


def operate(at: AppTest, label: str) -> AppTest:
    at.selectbox(key="operate_choice").select(label).run()
    assert not at.exception, at.exception
    return at


def test_a_viewer_gets_no_controls(demo):
    _steward, tokens = demo
    at = open_page(tokens["vera"], "deployments.py")
    assert "Operate" not in [h.value for h in at.subheader]
    assert not [b for b in at.button if b.label.startswith(("Fail", "Load-test"))]


def test_an_operator_fails_over_by_click_and_back_each_step_audited(demo):
    steward, tokens = demo
    before = credit_in(steward)
    assert (before.version_number, before.fallback_number) == (2, 1)
    at = operate(open_page(tokens["otto"], "deployments.py"), "Test · credit-default")
    button = at.button(key=key(before, "failover_button"))
    assert button.label == "Fail over to v1" and button.disabled  # not until confirmed
    confirm = at.checkbox(key=key(before, "failover_confirm"))
    assert confirm.label == "Yes, make v1 serve credit-default in Test instead of v2"
    at.text_input(key=key(before, "failover_reason")).input("v2 times out under load")
    confirm.check().run()
    at.button(key=key(before, "failover_button")).click().run()
    assert not at.exception, at.exception
    assert said(at, "success", "credit-default v1 now serves in Test (failover"), texts(at)
    now = credit_in(steward)
    assert (now.version_number, now.fallback_number, now.on_fallback) == (1, 2, True)
    event = next(e for e in steward.audit.recent(5) if e.action != "alert.open")
    assert (event.action, event.actor, event.detail) == (
        "deployment.failover",
        "otto",
        "v2 times out under load",
    )

    at = operate(open_page(tokens["otto"], "deployments.py"), "Test · credit-default")
    assert "serves the **fallback v1**" in texts(at) and "the primary v2 is armed to fail back to" in texts(
        at
    )
    back = at.button(key=key(now, "failover_button"))
    assert back.label == "Fail back to v2"
    at.text_input(key=key(now, "failover_reason")).input("v2's timeout fixed upstream")
    at.checkbox(key=key(now, "failover_confirm")).check().run()
    at.button(key=key(now, "failover_button")).click().run()
    assert not at.exception, at.exception
    assert said(at, "success", "credit-default v2 now serves in Test (failback"), texts(at)
    restored = credit_in(steward)
    assert (restored.version_number, restored.fallback_number, restored.on_fallback) == (2, 1, False)
    assert steward.audit.recent(1)[0].action == "deployment.failback"
    kinds = [e.kind for e in steward.deployments.ledger("Test", "credit-default")][:2]
    assert kinds == [LedgerKind.FAILBACK, LedgerKind.FAILOVER]


def test_a_fail_over_without_a_reason_is_refused_on_the_page(demo):
    steward, tokens = demo
    deployment = credit_in(steward)
    at = operate(open_page(tokens["otto"], "deployments.py"), "Test · credit-default")
    at.checkbox(key=key(deployment, "failover_confirm")).check().run()
    at.button(key=key(deployment, "failover_button")).click().run()
    assert said(at, "error", "a fail-over needs a reason")
    assert credit_in(steward).version == deployment.version  # nothing moved


def test_a_load_test_by_click_runs_in_its_own_process_and_its_result_shows(demo, stub):
    steward, tokens = demo
    deployment = credit_in(steward)
    at = operate(open_page(tokens["otto"], "deployments.py"), "Test · credit-default")
    assert "Held to: p95 ≤ 100 ms; p99 ≤ 250 ms; throughput ≥ 2 req/s; errors ≤ 1 %" in texts(at)
    at.number_input(key=key(deployment, "lt_rps")).set_value(1)
    at.number_input(key=key(deployment, "lt_seconds")).set_value(2)
    at.button(key=key(deployment, "lt_button")).click().run()
    assert not at.exception, at.exception
    assert said(at, "success", "started: 1 req/s for 2 s")
    [run] = steward.loadtests.list("Test", "credit-default")
    deadline = time.monotonic() + 120
    while not steward.loadtests.get(run.id).status.finished and time.monotonic() < deadline:
        time.sleep(0.5)
    done = steward.loadtests.get(run.id)
    assert done.status is LoadTestStatus.COMPLETED, done.detail
    assert done.requested_by == "otto" and done.version_number == 2 and done.requests == stub.seen.requests
    assert set(stub.seen.records[0]) == set(
        InputSchema.from_dict(steward.pipelines.version("credit-default", 2).schema).names
    )
    at = operate(open_page(tokens["otto"], "deployments.py"), "Test · credit-default")
    [history] = [frame.value for frame in at.dataframe if "Verdict" in frame.value]
    row = history.iloc[0].to_dict()
    assert row["#"] == run.id and row["Version"] == "v2" and row["Run by"] == "Otto Operator"
    # 1 req/s cannot meet Test's 2 req/s minimum: the verdict names that breach.
    assert row["Verdict"].startswith("breach: throughput") and "below the 2 req/s target" in row["Verdict"]
    assert steward.audit.recent(1)[0].action == "loadtest.complete"


def test_sla_targets_are_set_on_service_health_and_audited(demo):
    steward, tokens = demo
    assert "Set SLA targets" not in [e.label for e in open_page(tokens["vera"], "service_health.py").expander]
    at = open_page(tokens["otto"], "service_health.py")
    at.selectbox(key="sla_env").select("Prod").run()
    at.selectbox(key="sla_pipeline").select("credit-default").run()
    at.number_input(key="sla_p95_Prod_credit-default").set_value(60.0)
    at.button[[b.label for b in at.button].index("Save SLA targets")].click().run()
    assert not at.exception, at.exception
    assert said(at, "success", "SLA of credit-default in Prod: p50 ≤ 25 ms; p95 ≤ 60 ms")
    sla = steward.sla.get("Prod", "credit-default")
    assert sla is not None and sla.targets.p95_ms == 60 and sla.updated_by == "otto"
    event = steward.audit.recent(1)[0]
    assert event.action == "sla.set" and event.before["p95_ms"] == 75 and event.after["p95_ms"] == 60

    at.number_input(key="sla_p50_Prod_credit-default").set_value(500.0)
    at.button[[b.label for b in at.button].index("Save SLA targets")].click().run()
    assert said(at, "error", "the p50 target (500 ms) cannot be above the p95 target (60 ms)")
    assert steward.sla.get("Prod", "credit-default").targets.p50_ms == 25  # type: ignore[union-attr]
