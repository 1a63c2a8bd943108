"""The input contract over real HTTP: a bad record is a 422 naming each bad field; hostile bodies a quick 4xx."""

from __future__ import annotations

import time

import httpx
import pytest
from servingkit import serving
from test_promotions_support import build_world

from steward.core.services.api_keys import ApiKeyService

GOOD = {"amount": 120.0, "colour": "red"}


@pytest.fixture
def service(live_steward, tmp_path):
    world = build_world(live_steward, versions=1)
    live_steward.promotions.request(world["dana"], "toy", 1, "Dev", "try it")
    key = ApiKeyService(live_steward.ctx).create(world["ada"], "tests", ["Dev"]).secret
    with serving(live_steward, tmp_path) as running:
        yield running, key


def errors(response: httpx.Response) -> set[tuple[str, str]]:
    assert response.status_code == 422, response.text
    return {(e["field"], e["problem"]) for e in response.json()["errors"]}


def test_each_bad_field_is_named_and_nothing_is_predicted(service):
    running, key = service
    with running.client(key) as client:
        post = lambda body, **kw: client.post("/v1/Dev/toy/predict", json=body, **kw)  # noqa: E731
        assert errors(post({"colour": "red"})) == {("amount", "missing")}
        assert errors(post({**GOOD, "extra": 1})) == {("extra", "extra")}
        assert errors(post({"amount": "120", "colour": "red"})) == {("amount", "type")}
        assert errors(post({"amount": -3.0, "colour": "purple"})) == {
            ("amount", "below_min"),
            ("colour", "unknown_category"),
        }
        nan = client.post(
            "/v1/Dev/toy/predict",
            content=b'{"amount": NaN, "colour": "red"}',
            headers={"Content-Type": "application/json"},
        )
        assert ("amount", "not_finite") in errors(nan)
        inf = client.post("/v1/Dev/toy/predict", content=b'{"amount": Infinity, "colour": "red"}')
        assert ("amount", "not_finite") in errors(inf)
        both = post([GOOD, {"colour": "red", "amount": 1.0, "size": 3}])
        assert errors(both) == {("size", "extra")} and both.json()["errors"][0]["record"] == 1
        reordered = post({"colour": "red", "amount": 120.0})  # field order does not matter in JSON
        assert reordered.status_code == 200
        assert post({"amount": {"nested": 1}, "colour": "red"}).status_code == 422
        assert post([]).status_code == 422
        assert post("just text").status_code == 422
        assert client.post("/v1/Dev/toy/predict", content=b"{not json").status_code == 400
        metrics = client.get("/metrics").text
        assert (
            'steward_scoring_requests_total{environment="Dev",pipeline="toy",status="ok",version="v1"} 1.0'
            in metrics
        )


def test_hostile_bodies_get_a_quick_4xx_and_the_service_stays_healthy(service):
    running, key = service
    hostile = {
        "50 MB": b'{"amount": "' + b"x" * (50 * 1024 * 1024) + b'"}',
        "deep nesting": b"[" * 100_000 + b"]" * 100_000,
        "10^5 fields": ("{" + ",".join(f'"f{i}":0' for i in range(100_000)) + "}").encode(),
        "10^5 fields, small": ("{" + ",".join(f'"{i}":0' for i in range(100_000)) + "}").encode(),
    }
    with running.client(key, timeout=30) as client:
        for name, body in hostile.items():
            started = time.monotonic()
            try:
                status = client.post("/v1/Dev/toy/predict", content=body).status_code
            except httpx.HTTPError as problem:  # the server may close before reading 50 MB; that is a refusal
                status = -1
                assert "50 MB" in name, f"{name}: {problem!r}"
            elapsed = time.monotonic() - started
            assert status == -1 or 400 <= status < 500, f"{name}: {status}"
            assert elapsed < 5, f"{name} took {elapsed:.1f} s"
        assert client.get("/healthz").status_code == 200
        assert client.post("/v1/Dev/toy/predict", json=GOOD).status_code == 200
    assert running.process.poll() is None
