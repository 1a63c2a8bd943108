"""Shadow and canary routing in the scoring service: which version answers, and who scores beside it.

The table's poller calls :meth:`RolloutRouter.refresh` on every poll (once a
second by default): it lets the rollout service expire rollouts and roll back
a canary in breach, then reads the active rollouts and loads each challenger
beside the champion (verified like any swap candidate). A request then asks:

* :meth:`route`: for a canary, the key (``X-Routing-Key``, else the request
  id) is hashed; inside the canary's share the challenger answers, with its
  own breaker that never opens, so its failures reach the prediction log
  under its version and the SLA rollback sees them;
* :meth:`shadow`: after the champion answered, the challenger scores the same
  records on a worker thread and its answer goes to the shadow log, keyed on
  the champion's request id. It is never returned, and a shadow that lags is
  skipped rather than queued without bound.

A rollout applies only while its champion still serves: a promotion or
fail-over in the meantime leaves routing to the pointer alone.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from fastapi.responses import JSONResponse

from steward.app.serving.api import Scorer
from steward.app.serving.table import Key, LiveDeployment, ServingTable
from steward.core.domain.accounts import Actor
from steward.core.domain.rollouts import Rollout, RolloutKind, takes_canary
from steward.core.scoring.breaker import CircuitBreaker
from steward.core.scoring.contract import ContractViolation, check_records
from steward.core.scoring.model import ServingVersion
from steward.core.services.rollouts import RolloutService
from steward.core.services.shadow_log import ShadowLog

log = logging.getLogger(__name__)
ACTOR = Actor.system_actor("serving")
MAX_SHADOW_BACKLOG = 256  # requests waiting for the shadow; beyond this the shadow skips


@dataclass(frozen=True)
class Plan:
    rollout: Rollout
    challenger: ServingVersion
    breaker: CircuitBreaker  # the canary arm's own: never opens (the SLA rollback judges the canary)


def _never_opens() -> CircuitBreaker:
    return CircuitBreaker(failures=2**31, max_error_rate=2.0)


@dataclass
class RolloutRouter:
    table: ServingTable
    shadow_log: ShadowLog
    plans: dict[Key, Plan] = field(default_factory=dict)
    skipped: int = 0
    _cache: dict[str, ServingVersion] = field(default_factory=dict)
    _refused: set[str] = field(default_factory=set)
    _backlog: threading.BoundedSemaphore = field(
        default_factory=lambda: threading.BoundedSemaphore(MAX_SHADOW_BACKLOG)
    )
    _pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="shadow")
    )

    # ---- the poller side -----------------------------------------------------
    def refresh(self) -> None:
        """Supervise (expire, roll back) and read what is active; a database error keeps the plans."""
        service = RolloutService(self.table.ctx)
        try:
            for change in service.supervise(ACTOR):
                log.warning("rollout: %s", change)
            active = service.active()
        except Exception as problem:  # deliberately broad: the database may be away; keep routing
            log.warning("could not read the rollouts (%s); keeping the plans", str(problem)[:200])
            return
        plans: dict[Key, Plan] = {}
        for rollout in active:
            key = (rollout.environment_name, rollout.pipeline_name)
            challenger = self._load(rollout.challenger_version_id)
            if challenger is None:
                continue
            old = self.plans.get(key)
            same = old is not None and old.rollout.id == rollout.id
            plans[key] = Plan(rollout, challenger, old.breaker if same and old else _never_opens())
        self._cache = {
            k: v for k, v in self._cache.items() if any(p.challenger.version_id == k for p in plans.values())
        }
        self.plans = plans  # the one reference a request reads

    def _load(self, version_id: str) -> ServingVersion | None:
        cached = self._cache.get(version_id)
        if cached is not None or version_id in self._refused:
            return cached
        try:
            loaded = self.table._verified(version_id)
        except Exception as problem:  # deliberately broad: a challenger that fails its checks never answers
            self._refused.add(version_id)
            log.error("refused rollout challenger %s: %s", version_id, str(problem)[:300])
            return None
        self._cache[version_id] = loaded
        return loaded

    def stop(self) -> None:
        self._pool.shutdown(wait=True)

    # ---- the request side (no database) --------------------------------------
    def _plan(self, live: LiveDeployment) -> Plan | None:
        plan = self.plans.get((live.environment, live.pipeline))
        if plan is None or live.on_fallback or plan.rollout.champion_version_id != live.primary.version_id:
            return None
        return plan

    def route(self, live: LiveDeployment, routing_key: str) -> LiveDeployment:
        """The deployment as this request meets it: the canary's arm for keys inside its share."""
        plan = self._plan(live)
        if plan is None or plan.rollout.kind is not RolloutKind.CANARY or plan.rollout.share is None:
            return live
        if not takes_canary(routing_key, plan.rollout.id, plan.rollout.share):
            return live
        return replace(live, primary=plan.challenger, fallback=None, on_fallback=False, breaker=plan.breaker)

    def answer(
        self,
        scorer: Scorer,
        live: LiveDeployment,
        routing_key: str,
        records: list[dict[str, Any]],
        batch: bool,
        request_id: str,
        started: float,
    ) -> JSONResponse:
        """Answer on the arm the key routes to, then let the shadow (if any) score the same records.

        A canary is held to the deployment's contract: a request the champion's
        schema accepts but the canary's refuses is the canary failing (a 500 logged
        under its version, which the SLA rollback counts), not the caller's 422.
        """
        routed = self.route(live, routing_key)
        if routed is live:
            answer = scorer.answer(live, records, batch, request_id, started)
            self.shadow(live, records, batch, request_id, answer)
            return answer
        check_records(live.primary.schema, records)  # the deployment's contract: failing it is the caller's
        try:
            check_records(routed.primary.schema, records)
        except ContractViolation as refused:
            why = f"the canary v{routed.primary.number} cannot take this request: {refused.message}"
            return scorer.failed(routed, records, batch, request_id, started, why)
        return scorer.answer(routed, records, batch, request_id, started)

    def shadow(
        self,
        live: LiveDeployment,
        records: list[dict[str, Any]],
        batch: bool,
        request_id: str,
        answer: JSONResponse,
    ) -> None:
        """Score the same records with the shadow after the champion answered (never on the reply's path)."""
        plan = self._plan(live)
        if plan is None or plan.rollout.kind is not RolloutKind.SHADOW or answer.status_code != 200:
            return
        if not self._backlog.acquire(blocking=False):
            self.skipped += 1
            return
        body: dict[str, Any] = json.loads(bytes(answer.body))
        try:
            self._pool.submit(self._score, plan, records, batch, request_id, body)
        except RuntimeError:  # shutting down
            self._backlog.release()

    def _score(
        self,
        plan: Plan,
        records: list[dict[str, Any]],
        batch: bool,
        request_id: str,
        champion: dict[str, Any],
    ) -> None:
        try:
            started = time.perf_counter()
            status, labels = "ok", None
            predictions: list[float | None] = [None] * len(records)
            try:
                values, labels = plan.challenger.predict(check_records(plan.challenger.schema, records))
                if not all(math.isfinite(v) for v in values):
                    raise ValueError("the shadow answered NaN or infinity")
                predictions = list(values)
            except Exception as problem:  # deliberately broad: a failing shadow is logged as an error
                status = "error"
                log.info("shadow %s failed: %s", plan.challenger.version_id, str(problem)[:200])
            latency = (time.perf_counter() - started) * 1000
            ids = champion.get("request_ids") or [request_id]
            champion_labels = champion.get("labels") or [None] * len(records)
            now = self.table.ctx.clock.now()
            for i, request in enumerate(ids):
                self.shadow_log.submit(
                    {
                        "rollout_id": plan.rollout.id,
                        "request_id": request,
                        "version_id": plan.challenger.version_id,
                        "champion_version_id": plan.rollout.champion_version_id,
                        "prediction": predictions[i],
                        "champion_prediction": champion["predictions"][i],
                        "label": None if labels is None else str(labels[i])[:200],
                        "champion_label": None
                        if champion_labels[i] is None
                        else str(champion_labels[i])[:200],
                        "latency_ms": latency,
                        "status": status,
                        "scored_at": now,
                    }
                )
        finally:
            self._backlog.release()
