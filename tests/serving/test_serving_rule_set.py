"""A real ``steward serve`` answers from the armed rule set after a fail-over by click, and after the breaker opens."""

from __future__ import annotations

import time
from typing import Any

from servingkit import serving
from sqlalchemy import text
from test_promotions_support import build_world

from steward.core.services.api_keys import ApiKeyService

RULES = {
    "rules": [
        {"when": [{"column": "amount", "operator": ">", "value": 500}], "output": 0.9, "label": "1"},
        {
            "when": [{"column": "colour", "operator": "in", "value": ["red", "blue"]}],
            "output": 0.6,
            "label": "1",
        },
    ],
    "default": {"output": 0.2, "label": "0"},
}
RECORDS = [
    {"amount": 900.0, "colour": "green"},  # rule 1
    {"amount": 10.0, "colour": "blue"},  # rule 2
    {"amount": 10.0, "colour": "green"},  # the default
]


def test_after_a_fail_over_to_the_rule_set_every_answer_comes_from_it_naming_its_version(
    live_steward, tmp_path
):
    s = live_steward
    world = build_world(s, versions=1)
    s.promotions.request(world["dana"], "toy", 1, "Dev", "one version: no earlier one to fall back to")
    otto = world["otto"]
    s.rule_sets.save(otto, "Dev", "toy", RULES, "a safe answer while v1 is looked at")
    s.rule_sets.arm(otto, "Dev", "toy")
    key = ApiKeyService(s.ctx).create(world["ada"], "tests", ["Dev"]).secret
    with serving(s, tmp_path) as service, service.client(key) as client:

        def answer(body: Any = RECORDS) -> dict[str, Any]:
            response = client.post("/v1/Dev/toy/predict", json=body)
            assert response.status_code == 200, response.text
            return dict(response.json())

        def becomes(served_by: str, rule_set_version: int | None = None) -> dict[str, Any]:
            deadline = time.monotonic() + 10
            while True:
                body = answer()
                if (body["served_by"], body.get("rule_set_version")) == (served_by, rule_set_version):
                    return body
                assert time.monotonic() < deadline, f"still {body} instead of {served_by}"
                time.sleep(0.05)

        first = answer()
        assert (first["served_by"], first["fallback"], first["version"]) == ("primary", False, 1)
        assert first.get("rule_set_version") is None
        assert service.client().get("/readyz").json()["ready"] is True

        s.rule_sets.failover(otto, "Dev", "toy", "v1 misbehaves")
        body = becomes("rule_set", 1)
        assert (
            body["fallback"] is True and body["version"] == 1
        )  # the deployment's version, answered by rules
        assert body["predictions"] == [0.9, 0.6, 0.2] and body["labels"] == ["1", "1", "0"]
        assert len(body["request_ids"]) == 3
        single = answer({"amount": 10.0, "colour": "red"})
        assert (single["predictions"], single["served_by"]) == ([0.6], "rule_set")

        edited = {**RULES, "default": {"output": 0.05, "label": "0"}}
        s.rule_sets.save(otto, "Dev", "toy", edited, "a lower default")  # the arm follows the edit
        body = becomes("rule_set", 2)
        assert body["predictions"] == [0.9, 0.6, 0.05]

        s.rule_sets.failback(otto, "Dev", "toy", "v1 is fine")
        back = becomes("primary")
        assert back["fallback"] is False and back["labels"] is not None
        metrics = client.get("/metrics").text
        assert (
            'steward_scoring_fallback_answers_total{environment="Dev",pipeline="toy",version="rules-v2"}'
            in metrics
        )
        bad = client.post("/v1/Dev/toy/predict", json={"amount": "lots", "colour": "red"})
        assert bad.status_code == 422  # the contract still comes first, rules or not
    actions = [e.action for e in s.audit.recent(20)]
    assert "deployment.failover_rule_set" in actions and "deployment.failback_rule_set" in actions
    deadline = time.monotonic() + 10
    while not (logged := _rule_answers(s, body["request_ids"][0])):
        assert time.monotonic() < deadline, "the rule-set answer never reached the prediction log"
        time.sleep(0.1)
    assert logged == [(1, '{"prediction": 0.9, "label": "1", "rule_set_version": 2}')]


def _rule_answers(steward, request_id: str) -> list[tuple[int, str]]:
    with steward.engines.read.connect() as connection:
        rows = connection.execute(
            text("SELECT fallback, output_json FROM predictions WHERE request_id = :id"), {"id": request_id}
        ).all()
    return [(int(r[0]), str(r[1])) for r in rows]


def test_a_rule_set_that_no_longer_fits_the_primary_is_refused_and_audited(live_steward, tmp_path):
    s = live_steward
    world = build_world(s, versions=1)
    s.promotions.request(world["dana"], "toy", 1, "Dev", "serve")
    otto = world["otto"]
    s.rule_sets.save(otto, "Dev", "toy", RULES)
    s.rule_sets.arm(otto, "Dev", "toy")
    s.rule_sets.failover(otto, "Dev", "toy", "rules answer")
    # a rule set stored outside the service (as an older release might have) that names a column v1 lacks
    from sqlalchemy import update

    from steward.core.adapters.db.models import RuleSetRow
    from steward.core.services.uow import UnitOfWork

    broken = '{"rules": [{"when": [{"column": "income", "operator": ">", "value": 1}], "output": 1}], "default": {"output": 0}}'
    with UnitOfWork(s.ctx) as uow:
        uow.session.execute(update(RuleSetRow).values(body_json=broken))
        uow.commit()
    key = ApiKeyService(s.ctx).create(world["ada"], "tests", ["Dev"]).secret
    with serving(s, tmp_path) as service, service.client(key) as client:
        body = client.post("/v1/Dev/toy/predict", json=RECORDS[0]).json()
        assert body["served_by"] == "primary"  # never served from a rule set that does not fit
        deadline = time.monotonic() + 10
        while not any(e.action == "serving.rule_set_refused" for e in s.audit.recent(10)):
            assert time.monotonic() < deadline
            time.sleep(0.1)
    refused = next(e for e in s.audit.recent(10) if e.action == "serving.rule_set_refused")
    assert "income" in refused.detail and refused.object_id == "Dev/toy"
