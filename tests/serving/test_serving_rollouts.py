"""Shadow and canary through a real ``steward serve`` process over real HTTP on loopback.

* Shadow: every answer comes from the champion; the prediction log holds only
  the champion's rows, the shadow log holds the challenger's answer to each
  of the same request ids; ending it stops the shadow within a poll.
* Canary: a challenger retrained to expect a column the callers do not send
  fails those requests for real (the deployment's contract accepts them, the
  canary's does not), its error rate breaches the SLA, and the scoring service
  rolls it back by itself: audited, alerted, and the champion answers again.
* Sticky routing: one routing key always meets one version; the share of keys
  on the canary is close to the share asked for.
"""

from __future__ import annotations

import shutil
import time
from types import SimpleNamespace

import pytest
from servingkit import serving
from sqlalchemy import select
from test_promotions_support import TOY_SPEC, build_world, toy_frame, train_versions

from steward.core.adapters.db.models import PredictionRow, ShadowPredictionRow
from steward.core.domain.alert_rules import CANARY_ROLLBACK_KIND
from steward.core.domain.rollouts import RolloutKind, RolloutStatus
from steward.core.domain.sla import SlaTargets
from steward.core.services.api_keys import ApiKeyService
from steward.core.services.rollouts import RolloutService
from steward.core.services.sla import SlaService
from steward.core.services.uow import UnitOfWork
from steward.core.steward import Steward
from testkit import make_settings, reset_database

RECORD = {"amount": 120.0, "colour": "red"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def live_steward(request, tmp_path, sqlite_template):
    """A migrated Steward on the system clock (the server uses it too), on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        target = tmp_path / "steward.db"
        shutil.copyfile(sqlite_template, target)
        url = f"sqlite:///{target}"
    else:
        url = request.getfixturevalue("postgres_database")
        reset_database(url)
    instance = Steward(make_settings(tmp_path, url))
    instance.upgrade_database()
    yield instance
    instance.close()


@pytest.fixture
def world(live_steward):
    w = build_world(live_steward, versions=2)
    live_steward.promotions.request(w["dana"], "toy", 1, "Dev", "first")
    w.key = ApiKeyService(live_steward.ctx).create(w["ada"], "tests", ["Dev"]).secret  # type: ignore[attr-defined]
    return w


def eventually(check, what: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.1)


def rows(steward, table, *conditions):
    """Rows as plain namespaces (read inside the session, usable after it)."""
    names = [c.key for c in table.__table__.columns]
    with UnitOfWork(steward.ctx, write=False) as uow:
        found = uow.session.scalars(select(table).where(*conditions))
        return [SimpleNamespace(**{n: getattr(r, n) for n in names}) for r in found]


def test_shadow_answers_only_from_the_champion_and_both_outputs_are_logged(world, tmp_path):
    s = world.steward
    rollouts = RolloutService(s.ctx)
    v1, v2 = (v.id for v in world.versions)
    shadow = rollouts.start(world["dana"], RolloutKind.SHADOW, "Dev", "toy", 2, minutes=30, reason="compare")
    ids = [f"shadow-{i}" for i in range(30)]
    with serving(s, tmp_path) as service, service.client(world.key) as client:
        answers = [
            client.post(
                "/v1/Dev/toy/predict", json={**RECORD, "amount": 10.0 * i}, headers={"X-Request-ID": rid}
            )
            for i, rid in enumerate(ids)
        ]
        assert {(a.status_code, a.json()["version"]) for a in answers} == {(200, 1)}
        logged = eventually(
            lambda: len(rows(s, ShadowPredictionRow, ShadowPredictionRow.rollout_id == shadow.id)) == 30,
            "30 shadow rows",
        )
        assert logged
        shadows = rows(s, ShadowPredictionRow, ShadowPredictionRow.rollout_id == shadow.id)
        served = eventually(
            lambda: (
                (found := rows(s, PredictionRow, PredictionRow.request_id.in_(ids)))
                and len(found) == 30
                and found
            ),
            "30 champion rows",
        )
        assert {r.version_id for r in served} == {v1}  # the log holds what callers received
        assert {r.request_id for r in shadows} == set(ids)  # linked to the champion's request ids
        assert {(r.version_id, r.champion_version_id, r.status) for r in shadows} == {(v2, v1, "ok")}
        champion = {r.request_id: r.prediction for r in served}
        answered = {rid: a.json()["predictions"][0] for rid, a in zip(ids, answers, strict=True)}
        assert all(r.champion_prediction == pytest.approx(champion[r.request_id]) for r in shadows)
        assert champion == pytest.approx(answered)
        watch = rollouts.watch(shadow.id)
        assert watch.agreement is not None and watch.agreement.compared == 30
        assert watch.champion.requests == 30 and watch.challenger.requests == 30

        rollouts.end(world["dana"], shadow.id, "seen enough")
        time.sleep(1.5)  # a few polls (0.3 s each)
        after = client.post("/v1/Dev/toy/predict", json=RECORD, headers={"X-Request-ID": "after-end"})
        assert after.status_code == 200 and after.json()["version"] == 1
        time.sleep(1.0)
    assert not rows(s, ShadowPredictionRow, ShadowPredictionRow.request_id == "after-end")


def test_a_shadow_ends_by_itself_when_its_time_runs_out(world, tmp_path):
    s = world.steward
    rollouts = RolloutService(s.ctx)
    shadow = rollouts.start(world["dana"], RolloutKind.SHADOW, "Dev", "toy", 2, minutes=0.05)  # three seconds
    with serving(s, tmp_path):
        eventually(lambda: rollouts.get(shadow.id).status is RolloutStatus.EXPIRED, "the shadow expired")
    ended = next(e for e in s.audit.recent(10) if e.action == "rollout.ended")
    assert ended.actor == "system:serving" and "time ran out" in ended.detail


def _age_challenger(world) -> int:
    """Retrain the toy pipeline to expect an ``age`` column that the callers of v1 do not send."""
    s = world.steward
    data = toy_frame()
    data.insert(2, "age", (data.index % 60 + 20).astype(float))
    data.to_csv(s.settings.data_dir / "datasets" / "toy_age.csv", index=False)
    spec = TOY_SPEC.format(name="toy", model='estimator = "LogisticRegression"\nparams = { max_iter = 500 }')
    spec = spec.replace('path = "toy.csv"', 'path = "toy_age.csv"').replace(
        '  { name = "colour"',
        '  { name = "age", kind = "numeric", min = 0 },\n  { name = "colour"',
    )
    spec = spec.replace('columns = ["amount"]', 'columns = ["amount", "age"]')
    s.pipelines.register(world["dana"], spec)
    return s.pipelines.train(world["dana"], "toy", importances=False).number


def test_a_canary_breaching_the_error_rate_is_rolled_back_automatically(world, tmp_path):
    s = world.steward
    rollouts = RolloutService(s.ctx)
    number = _age_challenger(world)
    SlaService(s.ctx).set(world["otto"], "Dev", "toy", SlaTargets(max_error_rate=0.05))
    canary = rollouts.start(world["dana"], RolloutKind.CANARY, "Dev", "toy", number, minutes=30, share=0.5)
    with serving(s, tmp_path) as service, service.client(world.key) as client:
        statuses: dict[int, set[int]] = {}
        for i in range(400):
            answer = client.post("/v1/Dev/toy/predict", json=RECORD, headers={"X-Routing-Key": f"caller-{i}"})
            statuses.setdefault(answer.status_code, set()).add(answer.json().get("version", number))
            if rollouts.get(canary.id).status is not RolloutStatus.ACTIVE:
                break
        assert 500 in statuses and statuses[200] == {1}  # the canary failed for real; the champion did not
        rolled = eventually(
            lambda: (r := rollouts.get(canary.id)).status is RolloutStatus.ROLLED_BACK and r, "a rollback"
        )
        assert "error rate" in rolled.end_reason and "above the 5 % target" in rolled.end_reason
        time.sleep(1.0)  # a poll or three: the plan is gone
        after = [
            client.post("/v1/Dev/toy/predict", json=RECORD, headers={"X-Routing-Key": f"caller-{i}"})
            for i in range(40)
        ]
        assert {(a.status_code, a.json()["version"]) for a in after} == {(200, 1)}
    event = next(e for e in s.audit.recent(20) if e.action == "rollout.rolled_back")
    assert (
        event.actor == "system:serving" and event.outcome.value == "failed" and event.object_id == "Dev/toy"
    )
    assert any(a.kind == CANARY_ROLLBACK_KIND for a in s.alerts.list())
    failed = rows(s, PredictionRow, PredictionRow.status == "error")
    assert failed and {r.version_id for r in failed} == {rolled.challenger_version_id}


def test_canary_routing_is_sticky_by_key_and_takes_its_share(world, tmp_path):
    s = world.steward
    rollouts = RolloutService(s.ctx)
    SlaService(s.ctx).set(world["otto"], "Dev", "toy", SlaTargets(max_error_rate=0.5))
    rollouts.start(world["dana"], RolloutKind.CANARY, "Dev", "toy", 2, minutes=30, share=0.3)
    keys = [f"customer-{i}" for i in range(200)]
    with serving(s, tmp_path) as service, service.client(world.key) as client:
        seen: dict[str, set[int]] = {k: set() for k in keys}
        for _round in range(2):
            for key in keys:
                answer = client.post("/v1/Dev/toy/predict", json=RECORD, headers={"X-Routing-Key": key})
                assert answer.status_code == 200
                seen[key].add(answer.json()["version"])
    assert all(len(versions) == 1 for versions in seen.values())  # sticky: one key, one version
    share = sum(versions == {2} for versions in seen.values()) / len(keys)
    assert 0.2 <= share <= 0.4, share  # 0.3 asked; binomial sd over 200 keys is 0.032


def test_a_canary_breaching_the_latency_target_is_rolled_back_automatically(world, tmp_path):
    """A heavier challenger (a 600-tree forest against a logistic regression) is really slower."""
    s = world.steward
    rollouts = RolloutService(s.ctx)
    heavy = 'estimator = "RandomForestClassifier"\nparams = { n_estimators = 600, random_state = 0 }'
    [slow] = train_versions(s, world["dana"], 1, model=heavy)
    SlaService(s.ctx).set(world["otto"], "Dev", "toy", SlaTargets(p95_ms=8))
    canary = rollouts.start(
        world["dana"], RolloutKind.CANARY, "Dev", "toy", slow.number, minutes=30, share=0.5
    )
    with serving(s, tmp_path) as service, service.client(world.key) as client:
        for i in range(400):
            answer = client.post("/v1/Dev/toy/predict", json=RECORD, headers={"X-Routing-Key": f"caller-{i}"})
            assert answer.status_code == 200  # slow, not failing
            if rollouts.get(canary.id).status is not RolloutStatus.ACTIVE:
                break
        rolled = eventually(
            lambda: (r := rollouts.get(canary.id)).status is RolloutStatus.ROLLED_BACK and r, "a rollback"
        )
    assert "p95 latency" in rolled.end_reason and "above the 8 ms target" in rolled.end_reason
    watch = rollouts.watch(canary.id)
    assert watch.champion.p95_ms is not None and watch.challenger.p95_ms is not None
    assert watch.challenger.p95_ms > watch.champion.p95_ms
