"""The breaker driven by a real pipeline's real failure: a Ridge regressor overflows to infinity on a valid input.

The schema lets ``amount`` be any number from 0 up; 1e308 is such a number.
Scaled and multiplied by the regressor's coefficient it overflows float64,
so v2 answers infinity for it (an honest non-finite output, not a stub). v1,
a random forest, raises for it (scikit-learn casts to float32, which it
overflows): a real error, so those requests fail. The breaker opens after
the third, v1 answers ordinary requests meanwhile, and after the cool-down
one ordinary request probes v2, which answers, and the breaker closes. With a
rule set armed, the rule set stands in and the same record gets an answer.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
from servingkit import serving
from test_promotions_support import make_cast

from steward.core.domain.alert_rules import BREAKER_KIND
from steward.core.services.api_keys import ApiKeyService

SPEC = """
spec_version = 1

[pipeline]
name = "amounts"
owner = "tests"
task = "regression"
target = "y"

[source]
type = "file"
path = "amounts.csv"

[training]
seed = 7
holdout = 0.25

[schema]
columns = [
  {{ name = "amount", kind = "numeric", min = 0 }},
  {{ name = "colour", kind = "categorical", categories = ["red", "green", "blue"] }},
]

[model]
{model}

[[preprocess]]
name = "numbers"
columns = ["amount"]
steps = ["StandardScaler"]

[[preprocess]]
name = "codes"
columns = ["colour"]
steps = ["OneHotEncoder"]
"""
FOREST = 'estimator = "RandomForestRegressor"\nparams = { n_estimators = 5, max_depth = 3, random_state = 0 }'
RIDGE = 'estimator = "Ridge"\nparams = { alpha = 1.0 }'
ORDINARY = {"amount": 120.0, "colour": "red"}
EXTREME = {"amount": 1e308, "colour": "red"}  # inside the schema (min 0, no max); overflows the Ridge


def _register(steward, actor) -> None:
    datasets = steward.settings.data_dir / "datasets"
    datasets.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    amount = rng.gamma(2.0, 100.0, size=300)
    colour = rng.choice(["red", "green", "blue"], size=300)
    frame = pd.DataFrame({"amount": amount, "colour": colour, "y": 1000 * amount + rng.normal(size=300)})
    frame.to_csv(datasets / "amounts.csv", index=False)
    for model in (FOREST, RIDGE):  # v1 the forest, v2 the Ridge
        steward.pipelines.register(actor, SPEC.format(model=model))
        steward.pipelines.train(actor, "amounts", importances=False)


def _breaker_actions(steward) -> list[str]:
    return [e.action for e in reversed(steward.audit.recent(30)) if e.action.startswith("serving.breaker")]


def _wait_for(steward, wanted: list[str]) -> None:
    deadline = time.monotonic() + 10
    while _breaker_actions(steward) != wanted:
        assert time.monotonic() < deadline, _breaker_actions(steward)
        time.sleep(0.1)


def test_non_finite_outputs_of_a_real_pipeline_open_the_breaker_then_a_probe_closes_it(
    live_steward, tmp_path
):
    s = live_steward
    people = make_cast(s)
    _register(s, people["dana"])
    for number in (1, 2):
        s.promotions.request(people["dana"], "amounts", number, "Dev", "v2 with v1 armed as fallback")
    key = ApiKeyService(s.ctx).create(people["ada"], "tests", ["Dev"]).secret
    breaker = ("--breaker-failures", "3", "--breaker-cool-down", "1")
    with serving(s, tmp_path, *breaker) as service, service.client(key) as client:

        def answer(record: dict[str, Any]) -> dict[str, Any]:
            response = client.post("/v1/Dev/amounts/predict", json=record)
            assert response.status_code == 200, response.text
            return dict(response.json())

        def who(body: dict[str, Any]) -> tuple[int, str]:
            return body["version"], body["served_by"]

        assert who(answer(ORDINARY)) == (2, "primary")
        for _ in range(3):  # v2 answers infinity; v1 raises (the value overflows float32): both fail
            failed = client.post("/v1/Dev/amounts/predict", json=EXTREME)
            assert failed.status_code == 500 and "the model failed to answer" in failed.json()["detail"]
        assert who(answer(ORDINARY)) == (1, "fallback")  # open: the primary is not even tried
        _wait_for(s, ["serving.breaker_opened"])
        time.sleep(1.2)  # the cool-down
        probe = answer(ORDINARY)
        assert who(probe) == (2, "primary")  # half-open: one request tries v2; it answers, so closed
        assert who(answer(ORDINARY)) == (2, "primary")
        _wait_for(s, ["serving.breaker_opened", "serving.breaker_half_open", "serving.breaker_closed"])

        # the same failure with a rule set armed: the rule set stands in, not v1
        otto = people["otto"]
        rules = {
            "rules": [{"when": [{"column": "amount", "operator": ">", "value": 1e6}], "output": 1e9}],
            "default": {"output": 0.0},
        }
        s.rule_sets.save(otto, "Dev", "amounts", rules, "cap absurd amounts")
        s.rule_sets.arm(otto, "Dev", "amounts")
        deadline = time.monotonic() + 10
        while (reply := client.post("/v1/Dev/amounts/predict", json=EXTREME)).status_code != 200:
            assert time.monotonic() < deadline, reply.text  # 500 until the service loads the rule set
            time.sleep(0.05)
        body = reply.json()
        assert body["served_by"] == "rule_set"
        assert (body["predictions"], body["rule_set_version"], body["fallback"]) == ([1e9], 1, True)
    opened = next(e for e in s.audit.recent(30) if e.action == "serving.breaker_opened")
    assert opened.object_id == "Dev/amounts" and "NaN or infinity" in opened.detail
    closed = next(e for e in s.audit.recent(30) if e.action == "serving.breaker_closed")
    assert "the probe succeeded" in closed.detail
    assert any(a.kind == BREAKER_KIND for a in s.alerts.list())  # opening raised an alert
