"""Seeding the demo from ``sample_data/``: accounts for every role and the real data sets.

Runs only on an empty database, as the system actor, through the same
services (and so the same audit trail) as everything else.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from steward.core.clock import Clock
from steward.core.domain.accounts import Actor
from steward.core.domain.sla import SlaTargets
from steward.core.errors import ConfigurationError
from steward.core.steward import Steward

DEMO_PASSWORD = "steward-demo"  # noqa: S105 - printed by `make demo`; production mode refuses it
DEMO_FLAG = "STEWARD_DEMO"  # set to 1 by `steward demo`: the sign-in page then lists the demo accounts


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    roles: tuple[str, ...]
    why: str


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("admin", "Ada Admin", ("admin",), "manages users, roles, policies"),
    DemoAccount(
        "dana", "Dana Scientist", ("data_scientist",), "registers and trains pipelines, requests promotions"
    ),
    DemoAccount(
        "sam", "Sam Scientist", ("data_scientist",), "a second data scientist, to approve Dana's requests"
    ),
    DemoAccount(
        "bea", "Bea Business", ("business_stakeholder",), "reviews model cards, signs off for the business"
    ),
    DemoAccount(
        "rick", "Rick Risk", ("risk_officer",), "signs off for risk, reads and exports the audit log"
    ),
    DemoAccount("otto", "Otto Operator", ("operator",), "deploys to production, handles alerts, rolls back"),
    DemoAccount("vera", "Vera Viewer", ("viewer",), "looks, never touches"),
)

SEED_ACTOR = Actor.system_actor("demo-seed")

Progress = Callable[[str], None]


def _describe_dataset(relative: str) -> tuple[str, str]:
    lowered = relative.lower()
    role = "labels" if "label" in lowered else "training" if "train" in lowered else "production"
    topic = (
        "credit-card default (Taiwan, 2005)"
        if "credit" in lowered
        else "bike-sharing demand (Washington D.C.)"
    )
    return role, f"{role.capitalize()} data: {topic}"


def _attribution(sample_dir: Path) -> str:
    readme = sample_dir / "README.md"
    if not readme.is_file():
        return ""
    lines = [line.strip("-* ").strip() for line in readme.read_text(encoding="utf-8").splitlines()]
    return "\n".join(line for line in lines if "doi.org" in line or "UCI" in line)[:4000]


def is_seeded(steward: Steward) -> bool:
    return steward.users.count() > 0


def as_user(steward: Steward, username: str) -> Actor:
    """Act as a demo user (their current roles apply), as if they had signed in."""
    user = steward.users.get(SEED_ACTOR, username)
    return Actor(
        username=user.username,
        roles=user.roles,
        user_id=user.id,
        source="demo-seed",
        display_name=user.display_name,
    )


# (spec file, who registers it, whether it is trained): credit v2 (gradient boosting) beats v1
# (logistic); v3, a random forest challenger, loses to v2, so v2's spec is registered again as the
# pipeline's current one.
DEMO_PIPELINES: tuple[tuple[str, str, bool], ...] = (
    ("credit_default.toml", "dana", True),
    ("credit_default_v2.toml", "sam", True),
    ("credit_default_v3.toml", "dana", True),
    ("credit_default_v2.toml", "sam", False),
    ("bike_demand.toml", "dana", True),
)

# (who, pipeline, production data, labels, id column): the data set's environment (Prod) decides who may
DEMO_RETRAINING = (("otto", "bike-demand", "bike/production_2012", "bike/labels_2012", "instant"),)


class StoryClock:
    """The demo's history on a plausible calendar: weeks of work, not one second.

    Starts ``span`` before the real time; :meth:`jump` moves it on by the pause
    between two steps of the story, and between jumps it runs with the real clock
    so events stay in order. It never passes the real time: the last steps (the
    Prod request and its first signature) land minutes ago, so their approvals
    are still valid when someone opens the demo.
    """

    def __init__(self, real: Clock, span: timedelta) -> None:
        self.real = real
        self.offset = span

    def now(self) -> datetime:
        return self.real.now() - self.offset

    def jump(self, pause: timedelta) -> None:
        self.offset = max(self.offset - pause, timedelta(0))


def story_steward(steward: Steward, clock: StoryClock) -> Steward:
    """The same database, artifacts and notifier on the story's clock (the clock is injected, so the
    services write story times exactly as they would real ones)."""
    return Steward(
        steward.settings,
        clock=clock,
        notifier=steward.ctx.notifier,
        engines=steward.engines,
        artifact_store=steward.ctx.artifacts,
    )


# The pauses below add up to about this: the story ends an hour or two ago, and the Prod
# signature (valid 72 h) is from this morning, not last week.
STORY_SPAN = timedelta(days=17, hours=4)


def seed_demo(
    steward: Steward,
    sample_dir: Path,
    progress: Progress = print,
    *,
    quick: bool = False,
) -> None:
    """Fill an empty database with demo accounts, the sample data sets and trained pipelines.

    ``quick`` skips permutation importances (the slowest chart) for tests.
    """
    if not sample_dir.is_dir():
        raise ConfigurationError(f"sample data folder {sample_dir} does not exist")
    clock = StoryClock(steward.ctx.clock, STORY_SPAN)
    _seed(story_steward(steward, clock), sample_dir, progress, clock, quick=quick)


def _seed(steward: Steward, sample_dir: Path, progress: Progress, clock: StoryClock, *, quick: bool) -> None:
    progress("creating demo accounts")
    for account in DEMO_ACCOUNTS:
        steward.users.create(
            SEED_ACTOR,
            account.username,
            roles=account.roles,
            password=DEMO_PASSWORD,
            display_name=account.display_name,
        )
    target = steward.datasets.root
    target.mkdir(parents=True, exist_ok=True)
    attribution = _attribution(sample_dir)
    for source in sorted(sample_dir.rglob("*.csv")):
        relative = source.relative_to(sample_dir).as_posix()
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
        role, description = _describe_dataset(relative)
        progress(f"registering data set {relative}")
        steward.datasets.register(
            SEED_ACTOR,
            relative.removesuffix(".csv"),
            relative,
            role=role,
            description=description,
            attribution=attribution,
        )
    clock.jump(timedelta(days=1, hours=3))
    for spec_file, username, train in DEMO_PIPELINES:
        clock.jump(timedelta(days=1, hours=5, minutes=12))
        actor = as_user(steward, username)
        pipeline = steward.pipelines.register(actor, (sample_dir / "specs" / spec_file).read_bytes())
        if not train:
            progress(f"{pipeline.name}: {spec_file} is the current spec again")
            continue
        progress(f"training {pipeline.name} from {spec_file} as {username}")
        version = steward.pipelines.train(actor, pipeline.name, importances=not quick)
        progress(f"  {pipeline.name} {version.label}: {_metrics(version.metrics)}")
    seed_promotions(steward, progress, clock)
    clock.jump(timedelta(hours=2))
    seed_service_levels(steward, progress)
    clock.jump(timedelta(hours=3))
    seed_monitors(steward, progress)
    clock.jump(timedelta(hours=4))
    for username, pipeline_name, dataset, labels, id_column in DEMO_RETRAINING:
        progress(f"retraining {pipeline_name} on {dataset} with {labels} as {username}")
        version = steward.pipelines.retrain(
            as_user(steward, username),
            pipeline_name,
            dataset=dataset,
            labels=labels,
            id_column=id_column,
            importances=not quick,
        )
        progress(f"  {pipeline_name} {version.label}: {_metrics(version.metrics)}")


def _metrics(metrics: Mapping[str, object]) -> str:
    return ", ".join(f"{k} {v:.3f}" for k, v in sorted(metrics.items()) if isinstance(v, float))


# (who asks, pipeline, version, environment, why, [(who signs, comment)], who executes or None)
DEMO_PROMOTIONS: tuple[tuple[str, str, int, str, str, tuple[tuple[str, str], ...], str | None], ...] = (
    ("dana", "credit-default", 1, "Dev", "First look at the logistic baseline.", (), None),
    (
        "dana",
        "credit-default",
        1,
        "Test",
        "Baseline for the risk team's checks on production-like data.",
        (("sam", "Hold-out AUC 0.70 as expected for a linear baseline; lineage complete."),),
        "otto",
    ),
    ("sam", "credit-default", 2, "Dev", "Gradient boosting candidate, same data and split as v1.", (), None),
    (
        "dana",
        "credit-default",
        2,
        "Test",
        "v2 beats v1 on every hold-out metric; same training data digest.",
        (("sam", "Reviewed the calibration curve and the importances; fine."),),
        "otto",
    ),
    (
        "dana",
        "credit-default",
        2,
        "Prod",
        "Ready for customers: AUC 0.77 on the hold-out and passed Test; nothing serves credit decisions yet.",
        (("sam", "Data science signs: metrics and lineage verified."),),
        None,
    ),
    ("dana", "bike-demand", 1, "Dev", "First bike-demand model for the operations team.", (), None),
)


# Pause before each promotion of DEMO_PROMOTIONS: reviews take days, the Prod request is recent.
DEMO_PAUSES: tuple[timedelta, ...] = (
    timedelta(hours=2),
    timedelta(days=2, hours=4),
    timedelta(days=1, hours=1),
    timedelta(days=2, hours=6),
    timedelta(days=3, hours=2),
    timedelta(hours=5),
)


def seed_promotions(steward: Steward, progress: Progress = print, clock: StoryClock | None = None) -> None:
    """A realistic history: credit v1 through Dev and Test, v2 through Dev and Test with a Prod request
    waiting on the business and risk sign-offs, bike-demand v1 in Dev."""
    for (asker, pipeline, number, environment, why, signatures, executor), pause in zip(
        DEMO_PROMOTIONS, DEMO_PAUSES, strict=True
    ):
        if clock is not None:
            clock.jump(pause)
        progress(f"promotion: {pipeline} v{number} to {environment}")
        request = steward.promotions.request(as_user(steward, asker), pipeline, number, environment, why)
        for signer, comment in signatures:
            if clock is not None:
                clock.jump(timedelta(hours=3, minutes=40))
            steward.promotions.approve(as_user(steward, signer), request.id, comment)
        if executor is not None:
            if clock is not None:
                clock.jump(timedelta(minutes=50))
            entry = steward.promotions.execute(as_user(steward, executor), request.id)
            progress(f"  deployed by {entry.actor_name}: {entry.label} serves {entry.environment_name}")
            continue
        evidence = steward.promotions.evidence(request.id)
        if evidence.request.open:
            signed = ", ".join(evidence.request.signers) or "nobody yet"
            progress(
                f"  pending, not deployed: signed by {signed}; "
                f"still needs {evidence.signoff.describe_missing() or 'an operator to deploy it'}"
            )
        else:
            progress(f"  {evidence.request.status.value} by {environment}'s policy")


# SLA targets the operator sets: tighter the closer to customers (one record per request, on loopback
# the scoring service answers in a few milliseconds, so these leave room without being meaningless).
DEMO_SLAS: tuple[tuple[str, str, SlaTargets], ...] = (
    ("credit-default", "Dev", SlaTargets(p95_ms=250, max_error_rate=0.05)),
    (
        "credit-default",
        "Test",
        SlaTargets(p95_ms=100, p99_ms=250, min_throughput_rps=2, max_error_rate=0.01),
    ),
    (
        "credit-default",
        "Prod",
        SlaTargets(p50_ms=25, p95_ms=75, p99_ms=150, min_throughput_rps=2, max_error_rate=0.005),
    ),
    ("bike-demand", "Dev", SlaTargets(p95_ms=250, max_error_rate=0.05)),
)


def seed_service_levels(steward: Steward, progress: Progress = print) -> None:
    """Otto sets each demo deployment's SLA targets (audited, as if typed on Service health)."""
    otto = as_user(steward, "otto")
    for pipeline, environment, targets in DEMO_SLAS:
        progress(f"SLA of {pipeline} in {environment}: {'; '.join(targets.describe())}")
        steward.sla.set(otto, environment, pipeline, targets)


# (pipeline, environment, production data, window, time column, labels, id column, label column, mode)
DEMO_MONITORS = (
    (
        "bike-demand",
        "Dev",
        "bike/production_2012",
        "rows:8734",  # all of 2012 against all of 2011: same months, so drift is what really moved
        None,
        "bike/labels_2012",
        "instant",
        "cnt",
        "fixed",
    ),
    (
        "credit-default",
        "Test",
        "credit/production",
        "rows:6000",
        None,
        "credit/labels",
        "ID",
        "default_next_month",
        "calibrated",
    ),
)


def seed_monitors(steward: Steward, progress: Progress = print) -> None:
    """Add the demo monitors where their pipeline serves, and run each once so the Drift page has history."""
    otto, dana = as_user(steward, "otto"), as_user(steward, "dana")
    serving = {(d.pipeline_name, d.environment_name) for d in steward.deployments.serving()}
    for (
        pipeline,
        environment,
        dataset,
        window,
        time_column,
        labels,
        id_column,
        label_column,
        mode,
    ) in DEMO_MONITORS:
        if (pipeline, environment) not in serving:
            progress(f"skipping the {pipeline} monitor: nothing serves it in {environment}")
            continue
        monitor = steward.monitoring.add_monitor(
            dana,
            pipeline=pipeline,
            environment=environment,
            dataset=dataset,
            window=window,
            time_column=time_column,
            labels_dataset=labels,
            id_column=id_column,
            label_column=label_column,
            mode=mode,
        )
        run = steward.monitoring.run(otto, monitor.id)
        progress(f"monitor {pipeline} in {environment}: {run.status}, {run.detail}")


# Which sample rows drive each demo deployment's live traffic (``make demo``'s trickle).
DEMO_TRAFFIC_ROWS = {"credit-default": "credit/production.csv", "bike-demand": "bike/production_2012.csv"}
DEMO_TRAFFIC_KEY = "demo-traffic"


def demo_traffic_targets(steward: Steward) -> list[tuple[str, str, Path, tuple[str, ...]]]:
    """(environment, pipeline, rows file, input columns) for every demo deployment that serves now."""
    targets = []
    for deployment in steward.deployments.serving():
        rows = DEMO_TRAFFIC_ROWS.get(deployment.pipeline_name)
        if rows is None:
            continue
        version = steward.pipelines.version_by_id(deployment.version_id)
        columns = tuple(str(column["name"]) for column in version.schema["columns"])
        targets.append(
            (deployment.environment_name, deployment.pipeline_name, steward.datasets.resolve(rows), columns)
        )
    return targets


def issue_demo_traffic_key(steward: Steward) -> str:
    """A fresh key for the trickle, every earlier one revoked (audited, like any key an admin issues)."""
    for key in steward.api_keys.list():
        if key.name == DEMO_TRAFFIC_KEY and key.active:
            steward.api_keys.revoke(SEED_ACTOR, key.id, "replaced at demo start")
    environments = [e.name for e in steward.environments.list()]
    return steward.api_keys.create(SEED_ACTOR, DEMO_TRAFFIC_KEY, environments).secret
