"""The worker lease and fenced slot claims, step by step with a fixed clock (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from steward.core.adapters.db.models import AuditEventRow
from steward.core.domain.accounts import Actor
from steward.core.errors import FencedOut
from steward.core.services.fencing import fenced
from steward.core.services.leases import LeaderElection
from steward.core.services.uow import UnitOfWork
from steward.core.steward import Steward
from testkit import make_settings

TTL = timedelta(seconds=30)
HOUR = timedelta(hours=1)


@pytest.fixture
def other(steward, tmp_path, database_url, clock):
    """A second process's Steward on the same database and clock."""
    instance = Steward(make_settings(tmp_path, database_url), clock=clock)
    yield instance
    instance.close()


def test_one_holder_renews_and_the_token_grows_only_at_a_new_tenure(steward, other, clock):
    a = steward.leases.acquire("worker", "host:1", TTL)
    assert a.held_by("host:1", clock.now()) and a.token == 1
    b = other.leases.acquire("worker", "host:2", TTL)
    assert b.holder == "host:1" and not b.held_by("host:2", clock.now())  # a live lease is not taken
    clock.advance(seconds=20)
    renewed = steward.leases.acquire("worker", "host:1", TTL)
    assert renewed.token == 1 and renewed.expires_at == clock.now() + TTL
    clock.advance(seconds=31)
    taken = other.leases.acquire("worker", "host:2", TTL)
    assert taken.held_by("host:2", clock.now()) and taken.token == 2
    assert not steward.leases.acquire("worker", "host:1", TTL).held_by("host:1", clock.now())
    with UnitOfWork(steward.ctx, write=False) as uow:
        details = [
            e.detail
            for e in uow.session.scalars(
                select(AuditEventRow).where(AuditEventRow.action == "lease.acquired")
            )
        ]
    assert details[0].endswith("the lease was free")
    assert "host:1's lease (token 1) expired 1.0 s ago" in details[1]


def test_a_released_lease_is_taken_at_once(steward, other, clock):
    lease = steward.leases.acquire("worker", "host:1", TTL)
    assert steward.leases.release("worker", "host:1", lease.token)
    assert not other.leases.release("worker", "host:1", lease.token)  # already released
    assert other.leases.acquire("worker", "host:2", TTL).held_by("host:2", clock.now())


def test_a_stale_fence_cannot_claim_or_write(steward, other, clock):
    old = steward.leases.acquire("worker", "host:1", TTL).fence()
    clock.advance(seconds=31)
    new = other.leases.acquire("worker", "host:2", TTL).fence()
    ran: list[str] = []
    with pytest.raises(FencedOut, match="token 1 of host:1 was superseded"):
        steward.jobs.run_once("demo.job", HOUR, "host:1", lambda: ran.append("old") or "x", fence=old)
    assert ran == [] and steward.jobs.recent() == []
    # Any unit of work committed under the stale fence is refused, whatever service writes it.
    with pytest.raises(FencedOut), fenced(old), UnitOfWork(steward.ctx) as uow:
        uow.record(Actor.system_actor("worker"), "test.write")
        uow.commit()
    with UnitOfWork(steward.ctx, write=False) as uow:
        actions = list(uow.session.scalars(select(AuditEventRow.action).order_by(AuditEventRow.seq)))
    assert "test.write" not in actions and actions[-2:] == ["lease.acquired", "lease.acquired"]
    assert steward.audit.verify().ok
    run = other.jobs.run_once("demo.job", HOUR, "host:2", lambda: ran.append("new") or "done", fence=new)
    assert ran == ["new"] and run is not None and run.status == "ok" and run.token == 2


def test_a_fence_whose_lease_expired_is_refused_even_if_nobody_took_over(steward, clock):
    fence = steward.leases.acquire("worker", "host:1", TTL).fence()
    clock.advance(seconds=31)
    with pytest.raises(FencedOut, match="expired before this write"):
        steward.jobs.run_once("demo.job", HOUR, "host:1", lambda: "x", fence=fence)


def test_a_slot_left_running_by_a_dead_leader_is_taken_over_after_the_lease(steward, other, clock):
    dead = steward.leases.acquire("worker", "host:1", TTL).fence()
    slot = clock.now().replace(minute=0, second=0, microsecond=0)
    run_id = steward.jobs.claim("daily.job", slot, "host:1", every=HOUR, fence=dead)
    assert run_id is not None  # ... and host:1 dies before finishing
    clock.advance(seconds=31)
    alive = other.leases.acquire("worker", "host:2", TTL).fence()
    run = other.jobs.run_once("daily.job", HOUR, "host:2", lambda: "done", fence=alive)
    assert run is not None and run.id == run_id and run.status == "ok" and run.attempt == 2
    assert run.worker == "host:2" and run.detail.startswith("taken over from host:1")
    # The dead leader's result, should it ever arrive, is refused.
    with pytest.raises(FencedOut):
        steward.jobs.finish(run_id, "failed", "late", fence=dead)
    assert other.jobs.get(run_id).status == "ok"


def test_a_running_slot_of_an_older_tenure_is_abandoned_once_a_later_slot_runs(steward, other, clock):
    dead = steward.leases.acquire("worker", "host:1", TTL).fence()
    stuck = steward.jobs.claim("tick", clock.now(), "host:1", every=timedelta(seconds=1), fence=dead)
    clock.advance(seconds=40)
    alive = other.leases.acquire("worker", "host:2", TTL).fence()
    run = other.jobs.run_once("tick", timedelta(seconds=1), "host:2", lambda: "ok", fence=alive)
    assert run is not None and run.missed == 39 and run.detail.startswith("coalesced 39 missed slots")
    abandoned = other.jobs.get(stuck)  # type: ignore[arg-type]
    assert abandoned.status == "abandoned" and "host:1 lost the lease while running it" in abandoned.detail


def test_missed_slots_are_coalesced_into_one_run_and_counted(steward, clock):
    fence = steward.leases.acquire("worker", "host:1", TTL).fence()
    every = timedelta(minutes=5)
    first = steward.jobs.run_once("five.min", every, "host:1", lambda: "a", fence=fence)
    assert first is not None and first.missed == 0
    clock.advance(minutes=20)  # the worker stalled: three slots went by
    fence = steward.leases.acquire("worker", "host:1", TTL).fence()
    later = steward.jobs.run_once("five.min", every, "host:1", lambda: "b", fence=fence)
    assert later is not None and later.missed == 3 and later.detail == "coalesced 3 missed slots; b"
    assert steward.jobs.tallies(clock.now() - timedelta(hours=1))["five.min"] == {"missed": 3, "ok": 2}


def test_the_election_leads_renews_and_hands_over(steward, other, clock):
    changes: list[object] = []
    first = LeaderElection(steward.leases, name="worker", holder="host:1", ttl=TTL, on_change=changes.append)
    second = LeaderElection(other.leases, name="worker", holder="host:2", ttl=TTL)
    first.step()
    second.step()
    assert first.is_leader and not second.is_leader and changes and changes[-1].token == 1
    clock.advance(seconds=31)  # host:1 went silent (no step): its fence is no longer current locally either
    assert first.current() is None
    second.step()
    assert second.is_leader and second.current().token == 2
    first.step()
    assert not first.is_leader and changes[-1] is None
    second.stop(release=True)
    assert steward.leases.get("worker").holder is None
