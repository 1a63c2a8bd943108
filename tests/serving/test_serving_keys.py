"""``steward serve`` over real HTTP: predict, health, metrics, OpenAPI, and API keys (401/403)."""

from __future__ import annotations

import time

import pytest
from servingkit import serving
from test_promotions_support import build_world

from steward.core.errors import PermissionDenied
from steward.core.services.api_keys import ApiKeyService

RECORD = {"amount": 120.0, "colour": "red"}


@pytest.fixture
def world(live_steward):
    w = build_world(live_steward, versions=2)
    live_steward.promotions.request(w["dana"], "toy", 1, "Dev", "try it")
    return w


def test_predict_names_version_fallback_and_request_id_and_metrics_count_it(world, tmp_path):
    s = world.steward
    issued = ApiKeyService(s.ctx).create(world["ada"], "loadgen", ["Dev"])
    with serving(s, tmp_path) as service, service.client(issued.secret) as client:
        one = client.post("/v1/Dev/toy/predict", json=RECORD)
        assert one.status_code == 200, one.text
        body = one.json()
        assert (body["version"], body["fallback"], body["served_by"]) == (1, False, "primary")
        assert 0.0 <= body["predictions"][0] <= 1.0 and body["labels"][0] in (0, 1)
        assert one.headers["X-Request-ID"] == body["request_id"]
        batch = client.post("/v1/Dev/toy/predict", json=[RECORD, {"amount": 5.0, "colour": "blue"}])
        assert batch.status_code == 200 and len(batch.json()["predictions"]) == 2
        assert batch.json()["request_ids"] == [f"{batch.json()['request_id']}:{i}" for i in (0, 1)]
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz").json()
        assert ready["ready"] and ready["serving"][0]["version"] == 1
        metrics = client.get("/metrics").text
        assert (
            'steward_scoring_requests_total{environment="Dev",pipeline="toy",status="ok",version="v1"} 2.0'
            in metrics
        )
        assert "steward_scoring_latency_seconds_bucket" in metrics
        paths = client.get("/openapi.json").json()["paths"]
        assert "/v1/{environment}/{pipeline}/predict" in paths and "/readyz" in paths
        assert client.get("/docs").status_code == 200


def test_keys_missing_wrong_revoked_or_for_another_environment_are_refused(world, tmp_path):
    s = world.steward
    keys = ApiKeyService(s.ctx)
    with pytest.raises(PermissionDenied):
        keys.create(world["otto"], "not-an-admin", ["Dev"])
    dev = keys.create(world["ada"], "dev-only", ["Dev"])
    test_only = keys.create(world["ada"], "test-only", ["Test"])
    doomed = keys.create(world["ada"], "doomed", ["Dev"])
    assert dev.secret.startswith("stk_") and dev.secret not in str(keys.list())
    with serving(s, tmp_path) as service:

        def status(key: str | None) -> int:
            with service.client(key) as client:
                return client.post("/v1/Dev/toy/predict", json=RECORD).status_code

        assert status(None) == 401
        assert status("stk_not-a-key") == 401
        assert status(test_only.secret) == 403
        assert status(doomed.secret) == 200
        keys.revoke(world["ada"], doomed.key.id, "leaked")
        deadline = time.monotonic() + 5
        while status(doomed.secret) != 403:
            assert time.monotonic() < deadline, "a revoked key still answered after 5 s"
            time.sleep(0.1)
        assert status(dev.secret) == 200
    actions = [e.action for e in s.audit.recent(20)]
    assert actions.count("api_key.create") == 3 and "api_key.revoke" in actions
