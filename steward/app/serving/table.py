"""What the scoring service serves, held in memory and swapped without a failed request.

A poller thread reads the deployment pointers and the API keys every
``poll_seconds``. When a pointer names a version the table does not hold, the
candidate is loaded beside the one serving (its digest is checked by the
artifact store), verified (schema, warm-up predictions, finite outputs), and
only then does the table switch: one reference (a new dict) replaces the
old, so a request that already took its entry finishes on the version it
started on. A candidate that fails is never served: the old version keeps
answering, and the failure is audited (which opens an alert) once per
ledger entry. Audit writes happen here, never on a request's path.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from steward.core.domain.accounts import Actor
from steward.core.domain.api_keys import ApiKey
from steward.core.domain.audit import Outcome
from steward.core.domain.promotions import Deployment
from steward.core.domain.rule_sets import RuleSetArm
from steward.core.drift.profile import Profile
from steward.core.errors import InvalidInput, NotFound
from steward.core.scoring.breaker import BreakerState, CircuitBreaker
from steward.core.scoring.candidate import CandidateRejected, verify
from steward.core.scoring.model import ServingVersion, warmup_outputs
from steward.core.scoring.rule_fallback import LiveRuleSet, live_rule_set
from steward.core.services.api_keys import ApiKeyService
from steward.core.services.context import ServiceContext
from steward.core.services.deployments import DeploymentService
from steward.core.services.registry import PipelineService
from steward.core.services.rule_sets import RuleSetService
from steward.core.services.uow import UnitOfWork

log = logging.getLogger(__name__)
ACTOR = Actor.system_actor("serving")
Key = tuple[str, str]  # (environment, pipeline)


@dataclass(frozen=True)
class LiveDeployment:
    environment: str
    pipeline: str
    environment_id: int
    pipeline_id: int
    ledger_entry_id: int
    primary: ServingVersion
    fallback: ServingVersion | None
    on_fallback: bool  # a fail-over put the fallback in the primary slot: every answer is a fallback answer
    breaker: CircuitBreaker
    rule_set: LiveRuleSet | None = None  # armed: the breaker's fallback (or, engaged, every answer)

    @property
    def name(self) -> str:
        return f"{self.environment}/{self.pipeline}"


@dataclass
class BreakerSettings:
    failures: int = 5
    max_error_rate: float = 0.5
    window: int = 20
    cool_down_seconds: float = 10.0

    def new(self) -> CircuitBreaker:
        return CircuitBreaker(self.failures, self.max_error_rate, self.window, self.cool_down_seconds)


@dataclass
class ServingTable:
    ctx: ServiceContext
    poll_seconds: float = 1.0
    breakers: BreakerSettings = field(default_factory=BreakerSettings)
    deployments: dict[Key, LiveDeployment] = field(default_factory=dict)
    keys: dict[str, ApiKey] = field(default_factory=dict)
    pointers: dict[Key, str] = field(default_factory=dict)  # version id each pointer names, as last read
    refused: dict[tuple[str, int], str] = field(default_factory=dict)  # (version id, ledger entry) -> why
    refreshed: bool = False
    swaps: int = 0
    _cache: dict[str, ServingVersion] = field(default_factory=dict)
    _arms: dict[Key, RuleSetArm] = field(default_factory=dict)
    _events: queue.SimpleQueue[tuple[str, str, str]] = field(default_factory=queue.SimpleQueue)
    _stop: threading.Event = field(default_factory=threading.Event)
    hooks: list[Callable[[], None]] = field(default_factory=list)  # run after each poll (rollout routing)
    _thread: threading.Thread | None = None

    # ---- the request side (no database) ------------------------------------
    def get(self, environment: str, pipeline: str) -> LiveDeployment | None:
        return self.deployments.get((environment, pipeline))

    def breaker_moved(self, live: LiveDeployment, state: BreakerState, detail: str) -> None:
        """Queue a breaker transition for the poller to audit (a request never writes to the database)."""
        self._events.put((live.name, state.value, detail))

    def readiness(self) -> tuple[bool, list[str]]:
        """Ready when the pointers were read and every one is loaded and verified at its version."""
        if not self.refreshed:
            return False, ["the deployment pointers have not been read yet"]
        problems = []
        for key, version_id in self.pointers.items():
            live = self.deployments.get(key)
            if live is None or live.primary.version_id != version_id:
                why = next((r for (v, _e), r in self.refused.items() if v == version_id), "loading")
                problems.append(f"{key[0]}/{key[1]}: the version deployed is not serving ({why})")
        return not problems, problems

    # ---- the poller ----------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="serving-poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        self._audit_events()

    def _run(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            self.refresh()

    def refresh(self) -> None:
        """One poll: keys, pointers, swaps, queued audit events. A database error keeps what serves."""
        try:
            self.keys = ApiKeyService(self.ctx).by_digest()
            serving = DeploymentService(self.ctx).serving()
            self._arms = RuleSetService(self.ctx).armed()
        except Exception as problem:  # deliberately broad: the database may be away; keep serving
            log.warning("could not read the deployments (%s); serving what is loaded", str(problem)[:200])
            return
        self.pointers = {(d.environment_name, d.pipeline_name): d.version_id for d in serving}
        table = dict(self.deployments)
        changed = [self._consider(table, deployment) for deployment in serving]
        for key in list(table):
            if key not in self.pointers:
                del table[key]
                changed.append(True)
        if any(changed):
            self.deployments = table  # the one reference a request reads
            self.swaps += 1
        wanted = {v.version_id for live in table.values() for v in (live.primary, live.fallback) if v}
        self._cache = {k: v for k, v in self._cache.items() if k in wanted}
        self.refreshed = True
        self._audit_events()
        for hook in self.hooks:
            hook()

    def _consider(self, table: dict[Key, LiveDeployment], deployment: Deployment) -> bool:
        """Put the pointer's version in ``table`` if it is new and passes; True when ``table`` changed."""
        key = (deployment.environment_name, deployment.pipeline_name)
        current = table.get(key)
        fallback_id = deployment.fallback_version_id
        if (
            current is not None
            and current.primary.version_id == deployment.version_id
            and (current.fallback.version_id if current.fallback else None) == fallback_id
            and current.on_fallback == deployment.on_fallback
            and _same_rules(current.rule_set, self._arms.get(key))
        ):
            return False
        primary = self._load(deployment, deployment.version_id)
        if primary is None:
            return False  # the old version (if any) keeps serving
        fallback = self._load(deployment, fallback_id) if fallback_id else None
        rules = self._rules(deployment, primary)
        if (
            current is not None
            and current.primary is primary
            and current.fallback is fallback
            and current.on_fallback == deployment.on_fallback
            and current.rule_set == rules
        ):
            return False  # only a refused rule set differs from what the ledger says: nothing to swap
        table[key] = LiveDeployment(
            environment=deployment.environment_name,
            pipeline=deployment.pipeline_name,
            environment_id=deployment.environment_id,
            pipeline_id=deployment.pipeline_id,
            ledger_entry_id=deployment.ledger_entry_id,
            primary=primary,
            fallback=fallback,
            on_fallback=deployment.on_fallback,
            breaker=current.breaker if current is not None else self.breakers.new(),
            rule_set=rules,
        )
        return True

    def _rules(self, deployment: Deployment, primary: ServingVersion) -> LiveRuleSet | None:
        """The armed rule set if it fits the primary; a misfit is audited once and not served."""
        arm = self._arms.get((deployment.environment_name, deployment.pipeline_name))
        if arm is None:
            return None
        mark = (f"rule-set:{arm.version.id}", deployment.ledger_entry_id)
        if mark in self.refused:
            return None
        try:
            return live_rule_set(arm, primary)
        except InvalidInput as problem:
            name = f"{deployment.environment_name}/{deployment.pipeline_name}"
            self.refused[mark] = str(problem)
            log.error("refused %s %s: %s", name, arm.version.label, problem)
            self._record(
                "serving.rule_set_refused",
                name,
                Outcome.FAILED,
                f"{arm.version.label} v{primary.number}: {problem}",
            )
            return None

    def _load(self, deployment: Deployment, version_id: str) -> ServingVersion | None:
        cached = self._cache.get(version_id)
        if cached is not None:
            return cached
        mark = (version_id, deployment.ledger_entry_id)
        if mark in self.refused:
            return None
        name = f"{deployment.environment_name}/{deployment.pipeline_name}"
        try:
            loaded = self._verified(version_id)
        except Exception as problem:  # deliberately broad: any failure means "never serve it"
            reason = str(problem)[:500] or type(problem).__name__
            self.refused[mark] = reason
            log.error("refused %s version %s: %s", name, version_id, reason)
            self._record("serving.swap_failed", name, Outcome.FAILED, f"{version_id}: {reason}", version_id)
            return None
        self._cache[version_id] = loaded
        return loaded

    def _verified(self, version_id: str) -> ServingVersion:
        pipelines = PipelineService(self.ctx)
        version = pipelines.version_by_id(version_id)
        model = pipelines.load_model(version)  # refuses bytes that do not hash to the registered digest
        task = version.task
        try:
            reference: Profile | None = pipelines.reference_profile(version.id)
        except NotFound:  # registered before profiles were stored: schema-made warm-up rows
            reference = None
        try:
            schema = verify(version.schema, model, lambda m, f: warmup_outputs(m, f, task), reference)
        except CandidateRejected as problem:
            raise CandidateRejected(f"{version.label}: {problem}") from None
        return ServingVersion(version.id, version.number, version.artifact_sha256, task, schema, model)

    def _audit_events(self) -> None:
        while True:
            try:
                name, state, detail = self._events.get_nowait()
            except queue.Empty:
                return
            self._record(
                f"serving.breaker_{'opened' if state == 'open' else state}", name, Outcome.OK, detail
            )

    def _record(
        self, action: str, name: str, outcome: Outcome, detail: str, version_id: str | None = None
    ) -> None:
        after: dict[str, Any] = {"deployment": name, "at": time.time()}
        if version_id:
            after["version_id"] = version_id
        try:
            with UnitOfWork(self.ctx) as uow:
                uow.record(
                    ACTOR,
                    action,
                    object_type="deployment",
                    object_id=name,
                    outcome=outcome,
                    detail=detail,
                    after=after,
                )
                uow.commit()
        except Exception as problem:  # deliberately broad: retried by the next poll only for breaker events
            log.error("could not audit %s for %s: %s", action, name, str(problem)[:200])


def _same_rules(held: LiveRuleSet | None, arm: RuleSetArm | None) -> bool:
    """Whether the rule set held still is what the ledger arms (same version, same engagement)."""
    if held is None or arm is None:
        return held is None and arm is None
    return held.rule_set_id == arm.version.id and held.engaged == arm.engaged
