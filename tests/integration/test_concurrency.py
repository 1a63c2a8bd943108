"""Several processes appending to the audit chain at once: one chain, no gaps, no forks."""

import multiprocessing as mp
from pathlib import Path

from steward.core.domain.accounts import Actor
from steward.core.services.uow import UnitOfWork
from steward.core.steward import Steward
from testkit import make_settings, plain_main

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
    head_before = steward.audit.verify().chain.head_seq
    context = mp.get_context("forkserver")  # children fork from one process that imported Steward once
    context.set_forkserver_preload(["steward.core.steward", "steward.core.services.uow", "testkit"])
    # Explicit processes, not a Pool: a Pool waits forever for a worker that died; these are joined with a
    # deadline and their exit codes checked, so a crash fails the test instead of hanging the run.
    workers = [
        context.Process(target=_append, args=((str(tmp_path), database_url, w),)) for w in range(WORKERS)
    ]
    with plain_main():
        for worker in workers:
            worker.start()
    for worker in workers:
        worker.join(timeout=180)
    for worker in workers:
        if worker.is_alive():
            worker.kill()
    assert [worker.exitcode for worker in workers] == [0] * WORKERS
    result = steward.audit.verify()
    assert result.ok, result.summary()
    assert result.chain.head_seq == head_before + WORKERS * PER_WORKER
