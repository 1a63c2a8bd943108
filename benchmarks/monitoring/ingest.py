"""Prediction-log ingest: rows/s through Steward's bulk path on SQLite and PostgreSQL, beside raw sqlite3.

The same rows (credit-like inputs of 23 columns, already scored) go to:
- ``raw sqlite3``: ``executemany`` of a plain INSERT into the migrated
  ``predictions`` table (all its indexes), the floor;
- ``steward sqlite`` / ``steward postgresql``: ``PredictionLog.append`` in one
  unit of work, i.e. rows built from a ``ScoredBatch`` (JSON encoding
  included) and written by ``adapters/db/bulk.append_predictions``.
Each figure is the best of ``--repeats`` runs into a fresh database. Prints
JSON; ``run.py`` writes it into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from steward.core.adapters.db.bulk import PREDICTION_COLUMNS
from steward.core.adapters.db.models import EnvironmentRow, PipelineRow
from steward.core.config import Settings
from steward.core.services.predictions import PredictionLog, ScoredBatch
from steward.core.services.uow import UnitOfWork
from steward.core.steward import Steward

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def batch(rows: int, seed: int = 7) -> ScoredBatch:
    rng = np.random.default_rng(seed)
    features = pd.DataFrame({f"num_{i:02d}": rng.normal(1000, 300, rows).round(2) for i in range(17)})
    for i in range(6):
        features[f"cat_{i}"] = rng.integers(0, 7, rows)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return ScoredBatch(
        request_ids=[f"r{i}" for i in range(rows)],
        event_times=[start + timedelta(seconds=i) for i in range(rows)],
        features=features,
        predictions=rng.random(rows).tolist(),
        labels=rng.integers(0, 2, rows).tolist(),
    )


def prepare(url: str, folder: Path) -> tuple[Steward, int, int]:
    steward = Steward(
        Settings(data_dir=folder, database_url=url, secret_key="bench-secret-key-long-enough-0123456789")
    )
    steward.upgrade_database()
    with UnitOfWork(steward.ctx) as uow:
        env = uow.session.scalar(select(EnvironmentRow).order_by(EnvironmentRow.id))
        if env is None:
            env = EnvironmentRow(name="Dev", position=0, tier="dev", created_at=datetime.now(UTC))
            uow.session.add(env)
        pipeline = PipelineRow(
            name="bench",
            owner="bench",
            task="classification",
            target="y",
            spec_json="{}",
            spec_digest="0" * 64,
            created_at=datetime.now(UTC),
            created_by="bench",
            updated_at=datetime.now(UTC),
        )
        uow.session.add(pipeline)
        uow.session.flush()
        ids = pipeline.id, env.id
        uow.commit()
    return steward, *ids


def steward_path(url: str, scored: ScoredBatch) -> float:
    with tempfile.TemporaryDirectory() as folder:
        steward, _pipeline_id, _env_id = prepare(url, Path(folder))
        env_name = steward.environments.list()[0].name
        started = time.perf_counter()
        with UnitOfWork(steward.ctx) as uow:
            PredictionLog(steward.ctx).append(
                uow, scored, pipeline="bench", environment=env_name, version_id="v1", source="batch:bench"
            )
            uow.commit()
        seconds = time.perf_counter() - started
        steward.close()
        return seconds


def raw_sqlite(scored: ScoredBatch) -> float:
    with tempfile.TemporaryDirectory() as folder:
        steward, pipeline_id, env_id = prepare(f"sqlite:///{folder}/s.db", Path(folder))
        steward.close()
        rows = scored.rows(
            pipeline_id=pipeline_id,
            environment_id=env_id,
            version_id="v1",
            source="b",
            scored_at=datetime.now(UTC),
        )
        for row in rows:  # the floor gets its times pre-formatted: only the insert is timed
            row[5] = row[5].strftime("%Y-%m-%d %H:%M:%S.%f")
            row[6] = row[6].strftime("%Y-%m-%d %H:%M:%S.%f")
        connection = sqlite3.connect(f"{folder}/s.db")
        connection.execute("PRAGMA journal_mode=WAL")
        marks = ", ".join("?" * len(PREDICTION_COLUMNS))
        sql = f"INSERT INTO predictions ({', '.join(PREDICTION_COLUMNS)}) VALUES ({marks})"
        started = time.perf_counter()
        connection.executemany(sql, rows)
        connection.commit()
        seconds = time.perf_counter() - started
        connection.close()
        return seconds


def pg_url() -> str | None:
    try:
        engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        name = f"steward_bench_{uuid.uuid4().hex[:8]}"
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    except Exception:
        return None


def drop_pg(url: str) -> None:
    engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    scored = batch(args.rows)
    results: dict[str, Any] = {"rows": args.rows, "repeats": args.repeats}
    results["raw sqlite3 executemany"] = args.rows / min(raw_sqlite(scored) for _ in range(args.repeats))
    results["steward sqlite"] = args.rows / min(
        steward_path(f"sqlite:///{tempfile.mkdtemp()}/s.db", scored) for _ in range(args.repeats)
    )
    times = []
    for _ in range(args.repeats):
        url = pg_url()
        if url is None:
            break
        try:
            times.append(steward_path(url, scored))
        finally:
            drop_pg(url)
    results["steward postgresql"] = args.rows / min(times) if times else None
    json.dump(results, sys.stdout)
    print()


if __name__ == "__main__":
    main()
