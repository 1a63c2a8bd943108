"""The scoring service's HTTP face: predict, health, readiness, metrics, and the OpenAPI document.

``POST /v1/{environment}/{pipeline}/predict`` takes one record (a JSON object)
or a batch (a list of them) and answers the predictions, the version that
answered, whether the fallback served, and the request id the prediction log
keys on. The key is checked first (401 missing or unknown, 403 revoked or
for another environment), then the body against the version's schema (422
naming each bad field), and only then does a model see it.
"""

from __future__ import annotations

import json
import math
import re
import time
import uuid
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel

from steward.app.serving.metrics import Metrics
from steward.app.serving.table import LiveDeployment, ServingTable
from steward.core.clock import Clock
from steward.core.domain.api_keys import KeyVerdict, judge_key
from steward.core.scoring.breaker import BreakerState
from steward.core.scoring.contract import (
    MAX_BODY_BYTES,
    ContractViolation,
    check_records,
    field_limit,
    parse_records,
)
from steward.core.scoring.model import ServingVersion
from steward.core.scoring.rule_fallback import LiveRuleSet
from steward.core.services.online_log import OnlineLog

if TYPE_CHECKING:
    from steward.app.serving.routing import RolloutRouter

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,100}")
_KEY_ANSWERS = {
    KeyVerdict.MISSING: "an API key is needed (header X-API-Key)",
    KeyVerdict.UNKNOWN: "the API key is not valid",
    KeyVerdict.REVOKED: "the API key was revoked",
    KeyVerdict.WRONG_ENVIRONMENT: "the API key is not for this environment",
}


class PredictAnswer(BaseModel):
    """What a predict request answers."""

    predictions: list[float]
    labels: list[Any] | None = None
    version: int
    version_id: str
    fallback: bool
    served_by: str  # primary, fallback (an earlier version) or rule_set
    rule_set_version: int | None = None  # when the fallback rule set answered
    request_id: str
    request_ids: list[str] | None = None


class Problem(BaseModel):
    detail: str
    errors: list[dict[str, Any]] = []


_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"type": "object", "description": "one record: field name -> value"},
                        {"type": "array", "items": {"type": "object"}, "description": "a batch of records"},
                    ]
                },
                "example": {"amount": 120.5, "colour": "red"},
            }
        },
    }
}


def _problem(status: int, detail: str, errors: list[dict[str, Any]] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail, "errors": errors or []}, status_code=status)


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        raise ContractViolation(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise ContractViolation(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    return bytes(body)


class Scorer:
    """Answers one predict request on the entry it was handed (in-flight requests keep their version)."""

    def __init__(
        self, table: ServingTable, log: OnlineLog, metrics: Metrics, clock: Clock, timeout_ms: float
    ) -> None:
        self.table, self.log, self.metrics, self.clock = table, log, metrics, clock
        self.timeout_ms = timeout_ms

    def answer(
        self,
        live: LiveDeployment,
        records: list[dict[str, Any]],
        batch: bool,
        request_id: str,
        started: float,
    ) -> JSONResponse:
        frame = check_records(live.primary.schema, records)
        rules = live.rule_set
        if rules is not None and rules.engaged:  # failed over to the rule set: it answers everything
            return self._from_rules(live, rules, records, batch, request_id, started)
        served, fallback = live.primary, live.on_fallback
        use_primary, moved = live.breaker.allow_primary(started)
        if moved is not None:
            self.table.breaker_moved(live, moved, "cool-down over: one request probes the primary")
        alternative = None if live.on_fallback or rules else live.fallback  # an armed rule set comes first
        result: tuple[list[float], list[Any] | None] | None = None
        if use_primary or (alternative is None and rules is None):
            try:
                answered = live.primary.predict(frame)
                if not all(math.isfinite(v) for v in answered[0]):
                    raise ValueError("the primary answered NaN or infinity")
                result = answered  # only a finite answer is an answer
                slow = (time.perf_counter() - started) * 1000 > self.timeout_ms
                self._report(live, not slow, "the primary took longer than the timeout" if slow else "")
            except Exception as problem:  # deliberately broad: any model failure is the primary failing
                self._report(live, False, f"the primary failed: {str(problem)[:200]}")
                self.metrics.errors.labels(
                    live.environment, live.pipeline, f"v{served.number}", "primary"
                ).inc()
                if alternative is None and rules is None:
                    return self._failed(live, served, records, batch, request_id, started, str(problem))
        if result is None and rules is not None:
            return self._from_rules(live, rules, records, batch, request_id, started)
        if result is None and alternative is not None:
            served, fallback = alternative, True
            try:
                answered = served.predict(check_records(served.schema, records))
                if not all(math.isfinite(v) for v in answered[0]):
                    raise ValueError("the fallback answered NaN or infinity too")
                result = answered
            except Exception as problem:  # deliberately broad: both failed; the request fails
                return self._failed(live, served, records, batch, request_id, started, str(problem))
        assert result is not None
        return self._answered(live, served, records, batch, request_id, started, result, fallback)

    def _from_rules(
        self,
        live: LiveDeployment,
        rules: LiveRuleSet,
        records: list[dict[str, Any]],
        batch: bool,
        request_id: str,
        started: float,
    ) -> JSONResponse:
        """The armed rule set answers (plain Python over the checked records: it cannot fail on them)."""
        answer = rules.answer(records)
        return self._answered(live, live.primary, records, batch, request_id, started, answer, True, rules)

    def _answered(
        self,
        live: LiveDeployment,
        served: ServingVersion,
        records: list[dict[str, Any]],
        batch: bool,
        request_id: str,
        started: float,
        result: tuple[list[float], list[Any] | None],
        fallback: bool,
        rules: LiveRuleSet | None = None,
    ) -> JSONResponse:
        predictions, labels = result
        ids = [request_id] if not batch else [f"{request_id}:{i}" for i in range(len(records))]
        latency = (time.perf_counter() - started) * 1000
        self._log(live, served, records, ids, predictions, labels, latency, "ok", fallback, rules)
        version = rules.metric_version if rules is not None else f"v{served.number}"
        self.metrics.requests.labels(live.environment, live.pipeline, version, "ok").inc()
        self.metrics.latency.labels(live.environment, live.pipeline, version).observe(latency / 1000)
        if fallback:
            self.metrics.fallbacks.labels(live.environment, live.pipeline, version).inc()
        body: dict[str, Any] = {
            "predictions": predictions,
            "labels": labels,
            "version": served.number,
            "version_id": served.version_id,
            "fallback": fallback,
            "served_by": "rule_set" if rules is not None else "fallback" if fallback else "primary",
            "request_id": request_id,
        }
        if rules is not None:
            body["rule_set_version"] = rules.number
        if batch:
            body["request_ids"] = ids
        return JSONResponse(body, headers={"X-Request-ID": request_id})

    def _report(self, live: LiveDeployment, ok: bool, detail: str) -> None:
        moved = live.breaker.record(ok, time.perf_counter())
        if moved is not None:
            reason = (
                detail if moved is BreakerState.OPEN else "the probe succeeded: the primary answers again"
            )
            self.table.breaker_moved(live, moved, reason)

    def failed(
        self,
        live: LiveDeployment,
        records: list[dict[str, Any]],
        batch: bool,
        request_id: str,
        started: float,
        problem: str,
    ) -> JSONResponse:
        """The version ``live`` routed to could not take the request: its error, logged, answered 500."""
        version = f"v{live.primary.number}"
        self.metrics.errors.labels(live.environment, live.pipeline, version, "primary").inc()
        return self._failed(live, live.primary, records, batch, request_id, started, problem)

    def _failed(
        self,
        live: LiveDeployment,
        served: ServingVersion,
        records: list[dict[str, Any]],
        batch: bool,
        request_id: str,
        started: float,
        problem: str,
    ) -> JSONResponse:
        ids = [request_id] if not batch else [f"{request_id}:{i}" for i in range(len(records))]
        latency = (time.perf_counter() - started) * 1000
        self._log(live, served, records, ids, [None] * len(records), None, latency, "error", False)
        self.metrics.requests.labels(live.environment, live.pipeline, f"v{served.number}", "error").inc()
        return JSONResponse(
            {"detail": f"the model failed to answer: {problem[:200]}", "request_id": request_id},
            status_code=500,
            headers={"X-Request-ID": request_id},
        )

    def _log(
        self,
        live: LiveDeployment,
        served: ServingVersion,
        records: list[dict[str, Any]],
        ids: list[str],
        predictions: list[float] | list[None],
        labels: list[Any] | None,
        latency: float,
        status: str,
        fallback: bool,
        rules: LiveRuleSet | None = None,
    ) -> None:
        now = self.clock.now()
        for i, record in enumerate(records):
            output: dict[str, Any] = {"prediction": predictions[i]}
            if labels is not None:
                output["label"] = labels[i]
            if rules is not None:
                output["rule_set_version"] = rules.number
            self.log.submit(
                {
                    "pipeline_id": live.pipeline_id,
                    "environment_id": live.environment_id,
                    "version_id": served.version_id,
                    "request_id": ids[i],
                    "source": "http",
                    "event_time": now,
                    "scored_at": now,
                    "features_json": json.dumps(record, allow_nan=True),
                    "prediction": predictions[i],
                    "output_json": json.dumps(output, allow_nan=True),
                    "latency_ms": latency,
                    "status": status,
                    "fallback": fallback,
                }
            )


def create_app(
    table: ServingTable,
    log: OnlineLog,
    *,
    clock: Clock,
    metrics: Metrics | None = None,
    timeout_ms: float = 1000.0,
    router: RolloutRouter | None = None,
) -> FastAPI:
    metrics = metrics or Metrics()
    scorer = Scorer(table, log, metrics, clock, timeout_ms)
    app = FastAPI(
        title="Steward scoring service",
        description="Online predictions from what Steward's ledger says serves in each environment.",
        version="1",
    )

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """The process answers (it may not be ready: see /readyz)."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], responses={503: {"model": Problem}})
    def readyz() -> JSONResponse:
        """Every deployed pipeline is loaded and verified at the version its pointer names."""
        ready, problems = table.readiness()
        serving = [
            {
                "environment": d.environment,
                "pipeline": d.pipeline,
                "version": d.primary.number,
                "fallback": d.fallback.number if d.fallback else None,
                "breaker": d.breaker.state.value,
            }
            for d in table.deployments.values()
        ]
        return JSONResponse(
            {"ready": ready, "problems": problems, "serving": serving}, status_code=200 if ready else 503
        )

    @app.get("/metrics", tags=["health"])
    def prometheus() -> Response:
        """Prometheus text: requests, latency, errors, fallback answers by pipeline/environment/version."""
        metrics.log_pending.set(log.pending())
        metrics.log_spooled.set(log.stats.spooled)
        return Response(metrics.text(), media_type=CONTENT_TYPE_LATEST)

    @app.post(
        "/v1/{environment}/{pipeline}/predict",
        tags=["scoring"],
        response_model=PredictAnswer,
        responses={
            400: {"model": Problem},
            401: {"model": Problem},
            403: {"model": Problem},
            404: {"model": Problem},
            413: {"model": Problem},
            422: {"model": Problem},
            503: {"model": Problem},
        },
        openapi_extra=_BODY_DOC,
    )
    async def predict(
        environment: str,
        pipeline: str,
        request: Request,
        x_api_key: str | None = Header(default=None),
        x_request_id: str | None = Header(default=None),
        x_routing_key: str | None = Header(default=None),
    ) -> Response:
        """Score one record or a batch with the version serving PIPELINE in ENVIRONMENT."""
        started = time.perf_counter()
        verdict = judge_key(table.keys, x_api_key, environment)
        if verdict is not KeyVerdict.OK:
            metrics.refused.labels(environment[:64], pipeline[:100], str(verdict.status)).inc()
            return _problem(verdict.status, _KEY_ANSWERS[verdict])
        live = table.get(environment, pipeline)
        if live is None:
            status = 503 if not table.refreshed else 404
            return _problem(status, f"nothing serves {pipeline[:100]!r} in {environment[:64]!r}")
        request_id = (
            x_request_id if x_request_id and _REQUEST_ID.fullmatch(x_request_id) else uuid.uuid4().hex
        )
        try:
            body = await _read_body(request)
            records, batch = parse_records(body, max_fields=field_limit(live.primary.schema))
            if router is None:
                return scorer.answer(live, records, batch, request_id, started)
            key = x_routing_key if x_routing_key and _REQUEST_ID.fullmatch(x_routing_key) else request_id
            return router.answer(scorer, live, key, records, batch, request_id, started)
        except ContractViolation as violation:
            metrics.refused.labels(environment, pipeline, str(violation.status)).inc()
            return JSONResponse(
                {**violation.to_dict(), "request_id": request_id}, status_code=violation.status
            )

    return app
