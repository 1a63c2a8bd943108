"""Helpers shared by the promotion tests (no tests here): a cast of people and a small trained pipeline.

A toy classification pipeline trains in a fraction of a second, so the tests
promote real registered versions with real artifacts on disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from steward.core.domain.accounts import Actor
from steward.core.domain.gates import GatePolicy
from steward.core.domain.permissions import Tier
from steward.core.domain.policy_rules import PolicyChange
from steward.core.domain.registry import PipelineVersion
from steward.core.domain.roles import Role
from steward.core.domain.signoff import SignoffPolicy
from steward.core.steward import Steward
from testkit import add_user, sign_in

TOY_SPEC = """
spec_version = 1

[pipeline]
name = "{name}"
owner = "tests"
task = "classification"
target = "y"

[source]
type = "file"
path = "toy.csv"

[training]
seed = 7
holdout = 0.25

[schema]
columns = [
  {{ name = "amount", kind = "numeric", min = 0 }},
  {{ name = "colour", kind = "categorical", categories = ["red", "green", "blue"] }},
]

[model]
{model}

[[preprocess]]
name = "numbers"
columns = ["amount"]
steps = ["StandardScaler"]

[[preprocess]]
name = "codes"
columns = ["colour"]
steps = ["OneHotEncoder"]
"""

CAST = {
    "dana": ("data_scientist",),
    "sam": ("data_scientist",),
    "bea": ("business_stakeholder",),
    "rick": ("risk_officer",),
    "otto": ("operator",),
    "opal": ("operator",),
    "ada": ("admin",),
    "vera": ("viewer",),
}


def toy_frame(rows: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    amount = rng.gamma(2.0, 100.0, size=rows)
    colour = rng.choice(["red", "green", "blue"], size=rows)
    logit = 0.01 * (amount - 200) + 0.8 * (colour == "red")
    y = (logit + rng.normal(scale=0.7, size=rows) > 0).astype("int64")
    return pd.DataFrame({"amount": amount, "colour": colour, "y": y})


@dataclass
class World:
    steward: Steward
    people: dict[str, Actor]
    versions: list[PipelineVersion]
    pipeline: str = "toy"

    def __getitem__(self, name: str) -> Actor:
        return self.people[name]


def make_cast(steward: Steward, names: dict[str, tuple[str, ...]] | None = None) -> dict[str, Actor]:
    people = {}
    for name, roles in (names or CAST).items():
        add_user(steward, name, *roles)
        people[name] = sign_in(steward, name)
    return people


GOOD_MODEL = 'estimator = "LogisticRegression"\nparams = { C = 1.0, max_iter = 500 }'
WORSE_MODEL = (
    'estimator = "RandomForestClassifier"\nparams = { n_estimators = 1, max_depth = 1, random_state = 0 }'
)


def train_versions(
    steward: Steward, actor: Actor, count: int, *, name: str = "toy", model: str = GOOD_MODEL
) -> list[PipelineVersion]:
    """Register the toy pipeline (or change its spec) and train ``count`` versions of it."""
    datasets = steward.settings.data_dir / "datasets"
    datasets.mkdir(parents=True, exist_ok=True)
    target = datasets / "toy.csv"
    if not target.exists():
        toy_frame().to_csv(target, index=False)
    steward.pipelines.register(actor, TOY_SPEC.format(name=name, model=model))
    return [steward.pipelines.train(actor, name, importances=False) for _ in range(count)]


def build_world(steward: Steward, versions: int = 2) -> World:
    people = make_cast(steward)
    return World(steward, people, train_versions(steward, people["dana"], versions))


def artifact_path(steward: Steward, version: PipelineVersion) -> Path:
    return steward.settings.resolved_artifact_root / version.artifact_uri


def to_prod(world: World, number: int = 1) -> None:
    """Walk version ``number`` through Dev and Test to a pending Prod request signed by nobody yet."""
    s, p = world.steward, world.pipeline
    s.promotions.request(world["dana"], p, number, "Dev", "try it")
    test = s.promotions.request(world["dana"], p, number, "Test", "checks")
    s.promotions.approve(world["sam"], test.id, "looks fine")
    s.promotions.execute(world["otto"], test.id)


@dataclass(frozen=True)
class TierTargets:
    environment: str
    pending_request: int
    past_entry: int


def authz_targets(steward: Steward) -> dict[Tier, TierTargets]:
    """Per tier: a pending request and a ledger entry, so every scoped promotion action can be called.

    Built once per Steward by a system actor with sign-off switched off (the
    permission test checks who may call, not what the policy asks).
    """
    cached = steward.__dict__.get("_authz_targets")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    system = Actor.system_actor("authz-setup")
    second_admin = Actor.system_actor("authz-setup-second-admin")  # lowering Prod's policy takes two
    train_versions(steward, system, 2, name="toy-authz")
    for name, roles in (("authz-signer-ds", ("data_scientist",)), ("authz-signer-ro", ("risk_officer",))):
        add_user(steward, name, *roles)
    signers = [sign_in(steward, "authz-signer-ds"), sign_in(steward, "authz-signer-ro")]
    for policy in steward.promotions.policies():
        prod = policy.tier is Tier.PROD  # production keeps its floor: two people sign
        wanted = {Role.DATA_SCIENTIST: 1, Role.RISK_OFFICER: 1} if prod else {}
        changed = steward.promotions.set_policy(
            system,
            policy.environment,
            SignoffPolicy.build(wanted, approval_ttl=timedelta(hours=24)),
            GatePolicy(require_no_critical_alert=False),
        )
        if isinstance(changed, PolicyChange):
            steward.promotions.approve_policy_change(second_admin, changed.id)
    p = steward.promotions
    names = [env.name for env in steward.environments.list()]  # other tests may have added some
    tiers = {env.name: Tier(env.tier) for env in steward.environments.list()}
    entries = {}
    for version, route in ((1, names), (2, names[:-1])):
        for env in route:
            request = p.request(system, "toy-authz", version, env, "authz setup")
            if tiers[env] is Tier.PROD:
                for signer in signers:
                    p.approve(signer, request.id, "authz setup")
            entry = p.execute(system, request.id)
            if version == 1:
                entries[env] = entry.id
    pending = {env: p.request(system, "toy-authz", 1, env, "pending").id for env in names[:-1]}
    pending[names[-1]] = p.request(system, "toy-authz", 2, names[-1], "pending").id
    targets: dict[Tier, TierTargets] = {}
    for env in steward.environments.list():
        targets.setdefault(Tier(env.tier), TierTargets(env.name, pending[env.name], entries[env.name]))
    steward.__dict__["_authz_targets"] = targets
    return targets
