"""Service health shows what the core knows: what each environment would serve, and the SLA it is held to."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from steward.core.domain.accounts import Actor
from steward.core.setup.demo import DEMO_PASSWORD
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


def test_each_environment_shows_what_it_would_serve_from_the_ledger(demo_steward: Steward) -> None:
    at = open_page(demo_steward.auth.login("vera", DEMO_PASSWORD).token)
    serving = demo_steward.deployments.serving()
    assert serving, "the demo deploys something"
    environments = [env.name for env in demo_steward.environments.list()]
    assert [h.value for h in at.subheader] == [
        f"{env.name} · {env.tier.value} tier" for env in demo_steward.environments.list()
    ] + ["SLA targets"]
    rows = [
        row
        for frame in at.dataframe
        if "Would serve" in frame.value
        for row in frame.value.to_dict("records")
    ]
    assert [(r["Would serve"], r["Decided by"], r["Fallback"]) for r in rows] == [
        (
            f"{d.pipeline_name} v{d.version_number}",
            d.decided_by,
            f"v{d.fallback_number} armed" if d.fallback_number else "none armed (nothing to fall back to)",
        )
        for d in serving
    ]
    answered = {r["Would serve"]: r["Requests answered (batch)"] for r in rows}
    assert answered["bike-demand v1"] == 8734, "the demo's monthly bike batch went through Dev's deployment"
    assert answered == {
        f"{d.pipeline_name} v{d.version_number}": demo_steward.predictions.summary(
            d.pipeline_name, d.environment_name
        ).predictions
        for d in serving
    }
    idle = [name for name in environments if name not in {d.environment_name for d in serving}]
    captions = [c.value for c in at.caption]
    for name in idle:
        assert f"Nothing would be served in {name}: no version is deployed here yet." in captions
    # Each deployment names the targets the demo's operator set (none for Prod's idle deployment).
    assert (
        "SLA of credit\\-default: p95 ≤ 100 ms; p99 ≤ 250 ms; throughput ≥ 20 req/s; errors ≤ 1 % over 5 min."
        in captions
    )
    assert any("once the scoring service logs its requests" in i.value for i in at.info)


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
