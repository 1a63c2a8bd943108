"""Wrong passwords fired at one account from several processes at the same moment.

The throttle allows ``login_free_attempts`` password checks before the next
attempt must wait. If "must this attempt wait?" and "count it" were separate
transactions, every process could read "no wait" before any had counted, and
all of them would get a guess. Runs on SQLite (``BEGIN IMMEDIATE``) and
PostgreSQL (counter rows locked ``FOR UPDATE``).
"""

from __future__ import annotations

import multiprocessing as mp
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from steward.core.adapters.db.models import LoginThrottleRow
from steward.core.clock import FixedClock
from steward.core.errors import AuthenticationFailed
from steward.core.services.auth import WRONG_CREDENTIALS
from steward.core.services.uow import UnitOfWork
from steward.core.steward import Steward
from testkit import PASSWORD, add_user, make_settings, plain_main

PROCESSES, ATTEMPTS = 6, 3
DEADLINE_S = 120.0


def _guess(data_dir: str, url: str, now: datetime, worker: int, barrier: Any, results: Any) -> None:
    """One attacker process: wait for the others, then send wrong passwords as fast as it can."""
    # Every process sees the same instant, so no delay runs out during the test: what is allowed is fixed.
    steward = Steward(make_settings(Path(data_dir), url), clock=FixedClock(now))
    answers = []
    try:
        steward.audit.recent(1)  # connect before the start line, so the guesses leave together
        barrier.wait(timeout=DEADLINE_S)
        for _ in range(ATTEMPTS):
            try:
                steward.auth.login("alice", f"wrong-{worker}", source=f"198.51.100.{worker}")
                answers.append("signed in")
            except AuthenticationFailed as refused:
                answers.append("checked" if str(refused) == WRONG_CREDENTIALS else "throttled")
    except BaseException:
        barrier.abort()  # the others stop waiting for this one
        raise
    finally:
        results.put((worker, answers))
        steward.close()


def test_simultaneous_wrong_passwords_get_no_more_checks_than_the_throttle_allows(
    steward, clock, tmp_path, database_url
):
    add_user(steward, "alice", "viewer")
    allowed = steward.settings.login_free_attempts
    context = mp.get_context("forkserver")
    context.set_forkserver_preload(["steward.core.steward", "steward.core.services.auth", "testkit"])
    barrier, results = context.Barrier(PROCESSES), context.Queue()
    processes = [
        context.Process(
            target=_guess, args=(str(tmp_path), database_url, clock.now(), worker, barrier, results)
        )
        for worker in range(PROCESSES)
    ]
    with plain_main():
        for process in processes:
            process.start()
    answers: list[str] = []
    for _ in processes:
        _worker, got = results.get(timeout=180)
        answers.extend(got)
    for process in processes:
        process.join(timeout=30)
        if process.is_alive():
            process.kill()
    assert [process.exitcode for process in processes] == [0] * PROCESSES
    assert len(answers) == PROCESSES * ATTEMPTS
    assert "signed in" not in answers
    assert answers.count("checked") == allowed, answers
    assert answers.count("throttled") == PROCESSES * ATTEMPTS - allowed

    alice = [e for e in steward.audit.recent(200) if e.object_id == "alice"]
    assert sum(e.action == "auth.login_failed" for e in alice) == allowed
    assert sum(e.action == "auth.login_throttled" for e in alice) == PROCESSES * ATTEMPTS - allowed
    assert steward.audit.verify().chain.ok


@pytest.fixture
def tight_source(tmp_path, database_url, clock, steward):
    """A Steward on the same database whose sources get as few free attempts as accounts."""
    tight = Steward(make_settings(tmp_path, database_url, login_source_free_attempts=3), clock=clock)
    yield tight
    tight.close()


def test_a_right_password_gives_back_the_sources_claim_and_clears_the_account(tight_source):
    """Claiming before the check must not make a successful sign-in count as a failure."""
    steward = tight_source
    for name in ("alice", "bob", "carol"):
        add_user(steward, name, "viewer")
    for name in ("bob", "carol"):
        with pytest.raises(AuthenticationFailed, match="incorrect"):
            steward.auth.login(name, "wrong-password-here", source="203.0.113.9")
    with pytest.raises(AuthenticationFailed, match="incorrect"):
        steward.auth.login("alice", "wrong-password-here", source="198.51.100.1")
    steward.auth.login("alice", PASSWORD, source="203.0.113.9")
    # The source still holds two failures, not three: a third wrong password is checked, a fourth waits.
    with pytest.raises(AuthenticationFailed, match="incorrect"):
        steward.auth.login("bob", "wrong-password-here", source="203.0.113.9")
    with pytest.raises(AuthenticationFailed, match="Try again"):
        steward.auth.login("carol", PASSWORD, source="203.0.113.9")
    # Alice's own counter started again: three more wrong passwords from elsewhere are all checked.
    for _ in range(3):
        with pytest.raises(AuthenticationFailed, match="incorrect"):
            steward.auth.login("alice", "wrong-password-here", source="192.0.2.50")
    with pytest.raises(AuthenticationFailed, match="Try again"):
        steward.auth.login("alice", PASSWORD, source="192.0.2.51")


def test_a_refused_attempt_leaves_no_counter_for_a_name_never_tried(tight_source):
    steward = tight_source
    for _ in range(3):
        with pytest.raises(AuthenticationFailed):
            steward.auth.login("ghost", "wrong-password-here", source="203.0.113.10")
    with pytest.raises(AuthenticationFailed, match="Try again"):
        steward.auth.login("someone-new", "x", source="203.0.113.10")
    with UnitOfWork(steward.ctx, write=False) as uow:
        keys = set(uow.session.scalars(select(LoginThrottleRow.key)))
    assert keys == {"account:ghost", "source:203.0.113.10"}


def _sign_in(data_dir: str, url: str, name: str, barrier: Any, results: Any) -> None:
    """One colleague behind the office's address, signing in at the same moment as the others."""
    steward = Steward(make_settings(Path(data_dir), url))
    try:
        steward.audit.recent(1)
        barrier.wait(timeout=DEADLINE_S)
        steward.auth.login(name, PASSWORD, source="192.0.2.80")
        results.put((name, "signed in"))
    except AuthenticationFailed as refused:
        results.put((name, str(refused)))
    except BaseException:
        barrier.abort()
        raise
    finally:
        steward.close()


def test_colleagues_behind_one_address_sign_in_at_once(steward, tmp_path, database_url):
    """Claims in flight count against the source: its budget must leave room for people, not only guesses."""
    names = [f"colleague{i}" for i in range(PROCESSES)]
    for name in names:
        add_user(steward, name, "viewer")
    context = mp.get_context("forkserver")
    context.set_forkserver_preload(["steward.core.steward", "steward.core.services.auth", "testkit"])
    barrier, results = context.Barrier(PROCESSES), context.Queue()
    processes = [
        context.Process(target=_sign_in, args=(str(tmp_path), database_url, name, barrier, results))
        for name in names
    ]
    with plain_main():
        for process in processes:
            process.start()
    outcomes = dict(results.get(timeout=180) for _ in processes)
    for process in processes:
        process.join(timeout=30)
    assert outcomes == dict.fromkeys(names, "signed in")
