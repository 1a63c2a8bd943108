"""Run the scoring service: ``python -m steward.app.serving`` (what ``steward serve`` starts)."""

from __future__ import annotations

import argparse
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

from steward.app.serving.api import create_app
from steward.app.serving.routing import RolloutRouter
from steward.app.serving.table import BreakerSettings, ServingTable
from steward.core.services.online_log import OnlineLog
from steward.core.services.shadow_log import ShadowLog
from steward.core.steward import Steward


def build(
    steward: Steward,
    *,
    port: int,
    poll_seconds: float = 1.0,
    flush_seconds: float = 0.2,
    breaker: BreakerSettings | None = None,
    timeout_ms: float = 1000.0,
) -> FastAPI:
    """The app with its table and log; they start with the app and stop (log flushed) with it."""
    table = ServingTable(steward.ctx, poll_seconds=poll_seconds, breakers=breaker or BreakerSettings())
    spool = steward.settings.data_dir / "serving" / f"prediction-spool-{port}.jsonl"
    online_log = OnlineLog(steward.ctx, spool, flush_seconds=flush_seconds)
    shadow_log = ShadowLog(steward.ctx, flush_seconds=flush_seconds)
    router = RolloutRouter(table, shadow_log)
    table.hooks.append(router.refresh)
    app = create_app(table, online_log, clock=steward.ctx.clock, timeout_ms=timeout_ms, router=router)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        table.refresh()  # ready as soon as the first read loads what serves
        table.start()
        online_log.start()
        shadow_log.start()
        try:
            yield
        finally:
            table.stop()
            router.stop()
            online_log.stop()
            shadow_log.stop()

    app.router.lifespan_context = lifespan
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="steward serve", description=__doc__)
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--poll-seconds", type=float, default=1.0)
    parser.add_argument("--flush-seconds", type=float, default=0.2)
    parser.add_argument("--breaker-failures", type=int, default=5)
    parser.add_argument("--breaker-cool-down", type=float, default=10.0)
    parser.add_argument("--timeout-ms", type=float, default=1000.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    steward = Steward.open()
    host = args.host or steward.settings.scoring_address
    port = args.port or steward.settings.scoring_port
    breaker = BreakerSettings(failures=args.breaker_failures, cool_down_seconds=args.breaker_cool_down)
    app = build(
        steward,
        port=port,
        poll_seconds=args.poll_seconds,
        flush_seconds=args.flush_seconds,
        breaker=breaker,
        timeout_ms=args.timeout_ms,
    )
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        steward.close()


if __name__ == "__main__":
    main()
