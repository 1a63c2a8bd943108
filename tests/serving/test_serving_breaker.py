"""The service fails over by itself: a primary slower than the timeout opens the breaker, the fallback answers."""

from __future__ import annotations

import time

from servingkit import serving
from test_promotions_support import build_world

from steward.core.domain.alert_rules import BREAKER_KIND
from steward.core.services.api_keys import ApiKeyService

RECORD = {"amount": 120.0, "colour": "red"}


def test_a_slow_primary_opens_the_breaker_the_fallback_answers_and_each_transition_is_audited(
    live_steward, tmp_path
):
    s = live_steward
    world = build_world(s, versions=2)
    for number in (1, 2):
        s.promotions.request(world["dana"], "toy", number, "Dev", "v2 with v1 armed as fallback")
    key = ApiKeyService(s.ctx).create(world["ada"], "tests", ["Dev"]).secret
    every_answer_is_slow = ("--timeout-ms", "0.001", "--breaker-failures", "3", "--breaker-cool-down", "1")
    with serving(s, tmp_path, *every_answer_is_slow) as service, service.client(key) as client:
        answers = []
        for _ in range(6):
            response = client.post("/v1/Dev/toy/predict", json=RECORD)
            assert response.status_code == 200, response.text
            answers.append((response.json()["version"], response.json()["fallback"]))
        assert answers[:3] == [(2, False)] * 3  # the primary answers (too slowly) until the breaker opens
        assert answers[3:] == [(1, True)] * 3  # then the armed fallback answers
        time.sleep(1.2)
        probe = client.post("/v1/Dev/toy/predict", json=RECORD).json()
        assert (probe["version"], probe["fallback"]) == (2, False)  # half-open: one request tries the primary
        assert (
            client.post("/v1/Dev/toy/predict", json=RECORD).json()["fallback"] is True
        )  # it failed: open again
        metrics = client.get("/metrics").text
        assert (
            'steward_scoring_fallback_answers_total{environment="Dev",pipeline="toy",version="v1"} 4.0'
            in metrics
        )
        deadline = time.monotonic() + 10
        wanted = ["serving.breaker_opened", "serving.breaker_half_open", "serving.breaker_opened"]
        while [
            e.action for e in reversed(s.audit.recent(10)) if e.action.startswith("serving.breaker")
        ] != wanted:
            assert time.monotonic() < deadline, [e.action for e in s.audit.recent(10)]
            time.sleep(0.1)
    opened = next(e for e in s.audit.recent(10) if e.action == "serving.breaker_opened")
    assert opened.object_id == "Dev/toy" and "timeout" in opened.detail
    assert any(a.kind == BREAKER_KIND for a in s.alerts.list())


def test_an_operators_fail_over_and_back_are_followed_within_seconds(live_steward, tmp_path):
    s = live_steward
    world = build_world(s, versions=2)
    for number in (1, 2):
        s.promotions.request(world["dana"], "toy", number, "Dev", "v2 with v1 armed as fallback")
    key = ApiKeyService(s.ctx).create(world["ada"], "tests", ["Dev"]).secret
    with serving(s, tmp_path) as service, service.client(key) as client:

        def answer() -> tuple[int, bool]:
            body = client.post("/v1/Dev/toy/predict", json=RECORD).json()
            return body["version"], body["fallback"]

        def becomes(expected: tuple[int, bool]) -> None:
            deadline = time.monotonic() + 5
            while answer() != expected:
                assert time.monotonic() < deadline, f"still {answer()} instead of {expected}"
                time.sleep(0.05)

        assert answer() == (2, False)
        s.deployments.failover(world["otto"], "Dev", "toy", "v2 misbehaves")
        becomes((1, True))
        s.deployments.failback(world["otto"], "Dev", "toy", "fixed")
        becomes((2, False))
    actions = [e.action for e in s.audit.recent(10)]
    assert "deployment.failover" in actions and "deployment.failback" in actions
