"""Service health: what each environment serves, its live traffic from rollups, breaches, and URL filters."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from steward.app.ui.text import md
from steward.core.domain.accounts import Actor
from steward.core.services.online_requests import OnlineRequest, append_online_requests
from steward.core.setup.demo import DEMO_PASSWORD
from steward.core.setup.jobs import roll_up_requests
from steward.core.steward import Steward
from testkit import REPO_ROOT, TEST_SCRYPT_N

ENTRYPOINT = str(REPO_ROOT / "steward" / "app" / "streamlit_app.py")


def open_page(token: str) -> AppTest:
    at = AppTest.from_file(ENTRYPOINT, default_timeout=60)
    at.session_state["steward_token"] = token
    at.run()
    assert not at.exception, at.exception
    at.switch_page("../pages/service_health.py").run()
    assert not at.exception, at.exception
    return at


def test_each_environment_shows_what_it_serves_and_what_it_answered(demo_steward: Steward) -> None:
    roll_up_requests(demo_steward)  # what the worker does every 30 s
    at = open_page(demo_steward.auth.login("vera", DEMO_PASSWORD).token)
    serving = demo_steward.deployments.serving()
    assert serving, "the demo deploys something"
    environments = [env.name for env in demo_steward.environments.list()]
    assert [h.value for h in at.subheader] == [
        f"{env.name} · {env.tier.value} tier" for env in demo_steward.environments.list()
    ] + ["SLA targets"]
    rows = [
        row for frame in at.dataframe if "Serves" in frame.value for row in frame.value.to_dict("records")
    ]
    assert [(r["Serves"], r["Decided by"], r["Fallback"]) for r in rows] == [
        (
            f"{d.pipeline_name} v{d.version_number}",
            d.decided_by,
            f"v{d.fallback_number} armed" if d.fallback_number else "none armed (nothing to fall back to)",
        )
        for d in serving
    ]
    answered = {r["Serves"]: r["Requests answered (batch)"] for r in rows}
    assert answered["bike-demand v1"] == 8734, "the demo's monthly bike batch went through Dev's deployment"
    assert answered == {
        f"{d.pipeline_name} v{d.version_number}": demo_steward.predictions.summary(
            d.pipeline_name, d.environment_name
        ).predictions
        for d in serving
    }, "the rollups count what the log holds"
    idle = [name for name in environments if name not in {d.environment_name for d in serving}]
    captions = [c.value for c in at.caption]
    for name in idle:
        assert f"Nothing is served in {name}: no version is deployed here yet." in captions
    assert (
        "SLA of credit\\-default: p95 ≤ 100 ms; p99 ≤ 250 ms; throughput ≥ 2 req/s; errors ≤ 1 % over 5 min."
        in captions
    )


def test_slow_requests_show_as_a_breach_with_their_ids_and_the_sla_lines(demo_steward: Steward) -> None:
    serving = {(d.environment_name, d.pipeline_name): d for d in demo_steward.deployments.serving()}
    held = [t for t in demo_steward.sla.list() if (t.environment_name, t.pipeline_name) in serving]
    [sla] = [t for t in held if t.targets.p95_ms is not None and t.targets.p95_ms < 900][:1]
    where = f"{sla.environment_name}/{sla.pipeline_name}"
    deployment = serving[(sla.environment_name, sla.pipeline_name)]
    now = datetime.now(UTC)
    requests = [
        OnlineRequest(
            f"slow-{i}",
            deployment.version_id,
            latency_ms=900.0 + i if i % 4 == 0 else 30.0,
            scored_at=now - timedelta(minutes=2, seconds=i % 50),
            status="error" if i % 97 == 0 else "ok",
        )
        for i in range(400)
    ]
    append_online_requests(demo_steward.ctx, deployment.pipeline_name, sla.environment_name, requests)
    detail = roll_up_requests(demo_steward)
    assert f"{where} breached" in detail or where in {
        a.object_id for a in demo_steward.alerts.unresolved()
    }, detail
    at = open_page(demo_steward.auth.login("vera", DEMO_PASSWORD).token)
    breach = [e.value for e in at.error if "in breach of its SLA" in e.value]
    mine = [b for b in breach if md(sla.pipeline_name) in b and md(sla.environment_name) in b]
    assert mine and "p95 latency" in mine[0], [e.value for e in at.error]
    slowest = [f.value for f in at.dataframe if "Latency" in f.value and "Outcome" in f.value]
    assert any(list(t["Request id"])[:3] == ["slow-396", "slow-392", "slow-388"] for t in slowest)
    failing = [f.value for f in at.dataframe if "Latency" in f.value and "Outcome" not in f.value]
    expected = ["slow-0", "slow-194", "slow-291", "slow-388", "slow-97"]
    assert any(sorted(t["Request id"]) == expected for t in failing)
    figures = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    lines = [{shape["y0"] for shape in f["layout"].get("shapes", [])} for f in figures]
    assert any(sla.targets.p95_ms in found for found in lines), "the p95 target is drawn"
    names = {trace["name"] for f in figures for trace in f["data"]}
    assert f"v{deployment.version_number} p95" in names
    alerts = [a for a in demo_steward.alerts.unresolved() if a.kind == "sla.breach"]
    assert where in [a.object_id for a in alerts]


def test_the_url_filters_to_one_deployment(demo_steward: Steward) -> None:
    [deployment] = [d for d in demo_steward.deployments.serving() if d.pipeline_name == "bike-demand"][:1]
    at = AppTest.from_file(ENTRYPOINT, default_timeout=60)
    at.session_state["steward_token"] = demo_steward.auth.login("vera", DEMO_PASSWORD).token
    at.run()
    at.query_params["environment"] = deployment.environment_name
    at.query_params["pipeline"] = "bike-demand"
    at.switch_page("../pages/service_health.py").run()
    assert not at.exception, at.exception
    assert [h.value for h in at.subheader] == [
        f"{deployment.environment_name} · {deployment.tier.value} tier",
        "SLA targets",
    ]
    rows = [
        row for frame in at.dataframe if "Serves" in frame.value for row in frame.value.to_dict("records")
    ]
    assert [r["Serves"] for r in rows] == [f"bike-demand v{deployment.version_number}"]


@pytest.fixture
def empty_install(tmp_path) -> Iterator[Steward]:
    """A fresh install: migrated, the default environments, one viewer, nothing deployed."""
    st.cache_resource.clear()
    with pytest.MonkeyPatch.context() as patch:
        for key in [k for k in os.environ if k.startswith("STEWARD_")]:
            patch.delenv(key)
        patch.setenv("STEWARD_DATA_DIR", str(tmp_path / "data"))
        patch.setenv("STEWARD_SCRYPT_N", str(TEST_SCRYPT_N))
        steward = Steward()
        steward.upgrade_database()
        steward.users.create(
            Actor.system_actor("test"), "vic", roles=["viewer"], password="a-long-test-password"
        )
        yield steward
        steward.close()
        st.cache_resource.clear()


def test_nothing_deployed_says_what_to_do_next(empty_install: Steward) -> None:
    at = open_page(empty_install.auth.login("vic", "a-long-test-password").token)
    assert not at.dataframe
    assert any("Next: a data scientist registers and trains a pipeline" in i.value for i in at.info)
