"""The last two approvals and two executions arrive at once, from four separate processes.

Exactly one execution happens and the ledger gains exactly one entry; the
other executor is told the request changed since it loaded it. Runs on
SQLite (``BEGIN IMMEDIATE``) and PostgreSQL (row locks and version columns).
"""

from __future__ import annotations

import multiprocessing as mp
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from test_promotions_support import build_world, to_prod

from steward.core.domain.promotions import RequestStatus
from steward.core.errors import InvalidInput, StaleState, StewardError
from steward.core.steward import Steward
from testkit import make_settings, plain_main, sign_in

DEADLINE_S = 30.0


def _act(
    data_dir: str, url: str, username: str, role: str, request_id: int, barrier: Any, results: Any
) -> None:
    """One person in their own process: approve once, or try to execute until it happens or is refused."""
    steward = Steward(make_settings(Path(data_dir), url))
    try:
        actor = sign_in(steward, username)
        barrier.wait(timeout=DEADLINE_S)
        if role == "approve":
            steward.promotions.approve(actor, request_id, f"{username} signs")
            results.put((username, "approved", ""))
            return
        deadline = time.monotonic() + DEADLINE_S
        while True:
            try:
                entry = steward.promotions.execute(actor, request_id)
            except StaleState as stale:
                results.put((username, "stale", str(stale)))
                return
            except InvalidInput as waiting:  # the last signature has not landed yet: look again
                if time.monotonic() > deadline:
                    results.put((username, "gave up", str(waiting)))
                    return
                time.sleep(0.02)
                continue
            results.put((username, "executed", str(entry.id)))
            return
    except StewardError as problem:
        results.put((username, "error", f"{type(problem).__name__}: {problem}"))
    finally:
        steward.close()


def test_last_approvals_and_two_executions_at_once(steward, clock, tmp_path, database_url):
    clock.set(datetime.now(UTC))  # the other processes use the real clock: keep approvals fresh for them
    world = build_world(steward, versions=1)
    to_prod(world)
    request = steward.promotions.request(world["dana"], "toy", 1, "Prod", "ready")
    steward.promotions.approve(world["sam"], request.id, "data science signs")

    context = mp.get_context("forkserver")
    context.set_forkserver_preload(["steward.core.steward", "steward.core.services.promotions", "testkit"])
    barrier, results = context.Barrier(4), context.Queue()
    cast = [("bea", "approve"), ("rick", "approve"), ("otto", "execute"), ("opal", "execute")]
    processes = [
        context.Process(
            target=_act,
            args=(str(tmp_path), database_url, name, role, request.id, barrier, results),
        )
        for name, role in cast
    ]
    with plain_main():
        for process in processes:
            process.start()
    outcomes = {}
    for _ in cast:
        name, outcome, detail = results.get(timeout=120)
        outcomes[name] = (outcome, detail)
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0

    assert outcomes["bea"][0] == outcomes["rick"][0] == "approved", outcomes
    executors = {name: outcomes[name] for name in ("otto", "opal")}
    assert sorted(outcome for outcome, _ in executors.values()) == ["executed", "stale"], executors
    stale = next(detail for outcome, detail in executors.values() if outcome == "stale")
    assert "changed since you loaded it" in stale

    ledger = steward.deployments.ledger("Prod")
    assert len(ledger) == 1 and ledger[0].request_id == request.id
    assert {a.approver for a in ledger[0].approvals if a.counted_as} == {"sam", "bea", "rick"}
    [serving] = steward.deployments.serving("Prod")
    assert serving.version_number == 1
    assert steward.promotions.get(request.id).status is RequestStatus.EXECUTED
    executions = [e for e in steward.audit.list(world["ada"]).events if e.action == "promotion.execute"]
    assert [e.outcome.value for e in executions].count("ok") == 3  # Dev and Test earlier, Prod now
    assert steward.audit.verify().chain.ok
