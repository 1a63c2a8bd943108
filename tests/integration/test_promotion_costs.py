"""What a sign-off and the Approvals page cost the database, counted, on SQLite and PostgreSQL.

Measured on the code before the promotions package was split, in these same
scenarios on both databases: one Prod approval took 4 transactions (3 reads,
1 write) and 50 statements; an approval that let the policy deploy hashed the
artifact twice; the Approvals page's service calls for a data scientist with
one pending request took 6 read transactions and 44 statements, with ten
pending 15 and 287. These bounds hold the new shape: an approval is one read,
one hash and one write; the board is one read whose statements do not depend
on how many requests are pending. Each bound fails on the old code.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlcount import counting
from test_promotions_support import build_world, to_prod

from steward.core.adapters.artifacts import LocalArtifactStore
from steward.core.domain.promotions import RequestStatus
from steward.core.domain.signoff import SignoffPolicy
from steward.core.steward import Steward
from testkit import make_settings

APPROVAL_STATEMENTS = 30  # measured 26 on both databases
BOARD_STATEMENTS = 25  # measured 21 on both databases, with 1 pending request as with 10


class CountingStore(LocalArtifactStore):
    """The real artifact store, counting how often an artifact's bytes are read and hashed."""

    hashed = 0

    def read_verified(self, uri: str, expected_sha256: str, version_label: str) -> bytes:
        self.hashed += 1
        return super().read_verified(uri, expected_sha256, version_label)


@pytest.fixture
def counted(tmp_path: Path, database_url: str, clock) -> tuple[Steward, CountingStore]:
    settings = make_settings(tmp_path, database_url)
    store = CountingStore(settings.resolved_artifact_root)
    steward = Steward(settings, clock=clock, artifact_store=store)
    steward.upgrade_database()
    yield steward, store
    steward.close()


def test_one_prod_approval_is_one_read_one_hash_and_one_write(counted):
    steward, store = counted
    world = build_world(steward, versions=1)
    to_prod(world)
    request = steward.promotions.request(world["dana"], "toy", 1, "Prod", "ready for customers")
    steward.promotions.approve(world["sam"], request.id, "metrics hold")
    steward.promotions.approve(world["bea"], request.id, "business agrees")
    store.hashed = 0

    with counting(steward) as cost:
        signed = steward.promotions.approve(world["rick"], request.id, "risk accepted")

    assert (cost.reads, cost.writes) == (1, 1), cost
    assert cost.statements <= APPROVAL_STATEMENTS, cost
    assert store.hashed == 1
    # ... and it still did everything an approval does.
    assert [a.approver for a in signed.approvals] == ["sam", "bea", "rick"]
    assert steward.promotions.evidence(request.id).signoff.satisfied
    event = steward.audit.recent(1)[0]
    assert (event.action, event.actor, event.seq) == (
        "promotion.approve",
        "rick",
        signed.approvals[-1].audit_seq,
    )


def test_a_refused_approval_costs_its_audit_and_no_hash(counted):
    """A person who may not sign is refused from the one read: one audited refusal, nothing hashed."""
    steward, store = counted
    world = build_world(steward, versions=1)
    to_prod(world)
    request = steward.promotions.request(world["dana"], "toy", 1, "Prod", "ready")
    store.hashed = 0
    with counting(steward) as cost, pytest.raises(Exception, match="may not"):
        steward.promotions.approve(world["otto"], request.id, "operators do not sign")
    assert (cost.reads, cost.writes) == (1, 1), cost  # the read, and the permission.denied event
    assert store.hashed == 0
    assert steward.audit.recent(1)[0].action == "permission.denied"


def test_an_approval_that_lets_the_policy_deploy_hashes_the_artifact_once(counted):
    steward, store = counted
    world = build_world(steward, versions=1)
    test = steward.promotions.policy("Test")
    steward.promotions.set_policy(
        world["ada"],
        "Test",
        SignoffPolicy.build(test.signoff.counts, approval_ttl=test.signoff.approval_ttl, auto_execute=True),
        test.gates,
    )
    steward.promotions.request(world["dana"], "toy", 1, "Dev", "try it")
    request = steward.promotions.request(world["dana"], "toy", 1, "Test", "checks")
    store.hashed = 0
    signed = steward.promotions.approve(world["sam"], request.id, "fine")
    assert signed.status is RequestStatus.EXECUTED
    assert store.hashed == 1
    [entry] = steward.deployments.ledger("Test")
    assert entry.actor == "system:auto-execute" and [a.approver for a in entry.approvals] == ["sam"]


def _pending_tests_for_sam(steward: Steward, world, numbers: range) -> None:
    """Versions ``numbers`` deployed to Dev (it deploys itself) and waiting for a Test sign-off."""
    for number in numbers:
        steward.promotions.request(world["dana"], "toy", number, "Dev", f"v{number} to try")
        steward.promotions.request(world["dana"], "toy", number, "Test", f"v{number} for checks")


def test_the_approvals_board_is_one_read_whatever_is_pending(counted):
    steward, _store = counted
    world = build_world(steward, versions=11)
    to_prod(world)  # sam has signed (and v1 executed in Test): a decision with a certificate
    _pending_tests_for_sam(steward, world, range(2, 3))
    assert len(steward.promotions.list(status=RequestStatus.PENDING)) == 1

    with counting(steward) as one:
        board = steward.promotions.board(world["sam"])
    assert len(board.waiting) == 1 and board.decisions and board.certificates

    _pending_tests_for_sam(steward, world, range(3, 12))
    with counting(steward) as ten:
        board = steward.promotions.board(world["sam"])
    assert len(board.waiting) == 10

    for cost in (one, ten):
        assert (cost.reads, cost.writes) == (1, 0), cost
        assert cost.statements <= BOARD_STATEMENTS, cost
    assert ten.statements == one.statements, f"with 1 pending:\n{one}\nwith 10 pending:\n{ten}"


def test_the_board_sorts_requests_for_the_person_looking(counted):
    """Waiting for my role, ready for me to deploy, everyone else's: each request in exactly one place."""
    steward, _store = counted
    world = build_world(steward, versions=3)
    to_prod(world)
    prod = steward.promotions.request(world["dana"], "toy", 1, "Prod", "to customers")
    _pending_tests_for_sam(steward, world, range(2, 3))
    [test] = [
        r for r in steward.promotions.list(status=RequestStatus.PENDING) if r.environment_name == "Test"
    ]

    sam = steward.promotions.board(world["sam"])
    assert [e.request.id for e in sam.waiting] == [prod.id, test.id]  # oldest first
    assert sam.signs and not sam.ready and not sam.others
    [(decided, approval)] = sam.decisions
    assert approval.decision.done == "approved" and decided.executed and decided.id in sam.certificates

    rick = steward.promotions.board(world["rick"])
    assert [e.request.id for e in rick.waiting] == [prod.id]
    assert [e.request.id for e in rick.others] == [test.id]  # Test does not ask risk officers
    assert not rick.decisions and not rick.certificates

    steward.promotions.approve(world["sam"], test.id)
    otto = steward.promotions.board(world["otto"])
    assert not otto.signs and not otto.waiting
    assert [e.request.id for e in otto.ready] == [test.id]  # signed off, gates passed, his to deploy
    assert [e.request.id for e in otto.others] == [prod.id]

    dana = steward.promotions.board(world["dana"])
    assert not dana.waiting  # she asked for both: she never signs her own requests
    assert dana.own_requests_waiting
