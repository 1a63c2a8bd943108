"""Several processes appending to the audit chain at once: one chain, no gaps, no forks."""

import multiprocessing as mp
from pathlib import Path

from core.domain.accounts import Actor
from core.services.uow import UnitOfWork
from core.steward import Steward
from testkit import make_settings

WORKERS, PER_WORKER = 4, 15


def _append(args: tuple[str, str, int]) -> int:
    data_dir, url, worker = args
    steward = Steward(make_settings(Path(data_dir), url))
    actor = Actor.system_actor(f"worker{worker}")
    for index in range(PER_WORKER):
        with UnitOfWork(steward.ctx) as uow:
            uow.record(actor, "test.append", object_id=f"{worker}-{index}")
            uow.commit()
    steward.close()
    return worker


def test_concurrent_appends_from_processes_form_one_chain(steward, tmp_path, database_url):
    context = mp.get_context("forkserver")  # children fork from one process that imported Steward once
    context.set_forkserver_preload(["core.steward", "core.services.uow", "testkit"])
    with context.Pool(WORKERS) as pool:
        done = pool.map(_append, [(str(tmp_path), database_url, w) for w in range(WORKERS)])
    assert sorted(done) == list(range(WORKERS))
    result = steward.audit.verify()
    assert result.ok, result.summary()
    assert result.chain.head_seq == 3 + WORKERS * PER_WORKER
