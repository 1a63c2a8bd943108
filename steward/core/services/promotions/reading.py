"""Loading requests and their evidence for many requests at once, in a fixed number of statements.

A page that shows ten pending requests must not cost ten times one: the
reader loads each kind of row (environments, pipelines, versions, approvals,
pointers, policies, alerts, the ledger, signers' roles) in one statement for
all the requests it is given, then assembles the entities in Python.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from steward.core.adapters.db import queries
from steward.core.adapters.db.mappers.approvals import to_approval
from steward.core.adapters.db.mappers.policies import to_policy
from steward.core.adapters.db.mappers.promotions import to_request
from steward.core.adapters.db.models import (
    EnvironmentRow,
    PipelineRow,
    PipelineVersionRow,
    PromotionRequestRow,
)
from steward.core.domain.promotions import Evidence, PromotionRequest, RequestStatus
from steward.core.services.alerting import unresolved_critical_by_pipeline
from steward.core.services.head_to_head import latest_comparisons, to_head_to_head
from steward.core.services.loadtest import latest_load_tests
from steward.core.services.promotions.evidence import EvidenceFacts, assemble_evidence
from steward.core.services.promotions.signers import EventCheck, signer_facts
from steward.core.services.sla import sla_targets_many


class PromotionReader:
    """Reads within one transaction (the caller's session); environments and pipelines are read once."""

    def __init__(self, db: Session, now: datetime, authentic: EventCheck | None = None) -> None:
        self.db, self.now, self.authentic = db, now, authentic
        self._environments: dict[int, EnvironmentRow] | None = None
        self._pipelines: dict[int, PipelineRow] = {}

    def environments(self) -> dict[int, EnvironmentRow]:
        """Every environment by id, in their order (a handful of rows, read once)."""
        if self._environments is None:
            self._environments = {e.id: e for e in queries.ordered_environments(self.db)}
        return self._environments

    def pipelines(self, ids: Sequence[int]) -> dict[int, PipelineRow]:
        missing = set(ids) - set(self._pipelines)
        if missing:
            self._pipelines.update(queries.pipelines_by_id(self.db, missing))
        return self._pipelines

    def requests(
        self,
        rows: Sequence[PromotionRequestRow],
        versions: Mapping[str, PipelineVersionRow] | None = None,
    ) -> list[PromotionRequest]:
        """Requests as entities, in the order given. ``versions``: rows the caller loaded already."""
        if not rows:
            return []
        envs = self.environments()
        pipelines = self.pipelines([r.pipeline_id for r in rows])
        if versions is None:
            numbers = queries.version_numbers(
                self.db, [v for r in rows for v in (r.version_id, r.champion_version_id)]
            )
        else:
            numbers = {vid: v.number for vid, v in versions.items()}
        approvals = queries.approvals_of(self.db, [r.id for r in rows])
        return [
            to_request(
                row,
                envs[row.environment_id],
                pipelines[row.pipeline_id].name,
                numbers,
                [to_approval(a) for a in approvals.get(row.id, ())],
            )
            for row in rows
        ]

    def request(
        self, row: PromotionRequestRow, versions: Mapping[str, PipelineVersionRow] | None = None
    ) -> PromotionRequest:
        return self.requests([row], versions)[0]

    def evidence(self, rows: Sequence[PromotionRequestRow]) -> list[Evidence]:
        """Each request's evidence, gathered now; the same statements for one request as for fifty."""
        if not rows:
            return []
        db = self.db
        envs = self.environments()
        pipelines = self.pipelines([r.pipeline_id for r in rows])
        pending = RequestStatus.PENDING.value
        pointers = queries.pointers_for(db, {r.pipeline_id for r in rows if r.status == pending})

        def champion_of(row: PromotionRequestRow) -> str | None:
            if row.status != pending:
                return row.champion_version_id  # what it was compared with when it closed
            pointer = pointers.get((row.environment_id, row.pipeline_id))
            return pointer.version_id if pointer is not None else None

        champions = {row.id: champion_of(row) for row in rows}
        versions = queries.versions_by_id(
            db,
            [r.version_id for r in rows] + [r.champion_version_id for r in rows] + list(champions.values()),
        )
        requests = self.requests(rows, versions)
        stored = queries.policy_rows(db)
        alerts = unresolved_critical_by_pipeline(db, {pipelines[r.pipeline_id].name for r in rows})
        served = queries.served_in_many(db, {r.version_id for r in rows})
        signers = signer_facts(db, requests, self.authentic)
        load_tests = latest_load_tests(db, {r.version_id for r in rows})
        slas = sla_targets_many(db, {(r.environment_id, r.pipeline_id) for r in rows})
        compared = latest_comparisons(
            db, {(r.version_id, c, r.environment_id) for r in rows if (c := champions[r.id]) is not None}
        )
        numbers = {vid: v.number for vid, v in versions.items()}
        result = []
        for row, request in zip(rows, requests, strict=True):
            env, pipeline = envs[row.environment_id], pipelines[row.pipeline_id]
            champion_id = champions[row.id]
            facts = EvidenceFacts(
                request=request,
                policy=to_policy(env, stored.get(env.id)),
                task=pipeline.task,
                challenger=versions[row.version_id],
                champion=versions.get(champion_id) if champion_id else None,
                critical_alerts=tuple(alerts.get(pipeline.name, ())),
                served_in=served.get(row.version_id, {}),
                environments=tuple(envs.values()),
                signers=signers,
                load_test=load_tests.get(row.version_id),
                sla=slas.get((row.environment_id, row.pipeline_id)),
                head_to_head=(
                    to_head_to_head(pair, pipeline.name, env.name, numbers)
                    if champion_id is not None
                    and (pair := compared.get((row.version_id, champion_id, row.environment_id))) is not None
                    else None
                ),
            )
            result.append(assemble_evidence(facts, self.now))
        return result
