"""The ``steward`` group: every command group is a module of this package, loaded when it runs.

The registry below names each command's module and its one-line help, so
``steward --help`` lists every command without importing any of them (some
pull in pandas, scipy, scikit-learn or SQLAlchemy); ``tests/cli`` checks each
line against the command's own docstring so the two cannot drift apart.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import click

from steward.app.errors import friendly


@dataclass(frozen=True)
class Entry:
    """Where a command lives and the line ``steward --help`` shows for it."""

    target: str  # "module:attribute"
    help: str


PACKAGE = "steward.app.cli"
COMMANDS: dict[str, Entry] = {
    "alerts": Entry(
        "alerts:alerts_group",
        "Incidents and the rules that open them.",
    ),
    "app": Entry(
        "services:app_command",
        "Start the Streamlit app alone (no seeding).",
    ),
    "audit": Entry(
        "audit:audit",
        "Verify, checkpoint and export the tamper-evident audit log.",
    ),
    "canary": Entry(
        "rollouts:canary_group",
        "A challenger answers a share of traffic, sticky by key; rolled back by itself on an SLA breach.",
    ),
    "compare": Entry(
        "compare:compare_command",
        "Score VERSION of PIPELINE and the version serving in ENVIRONMENT on the same rows; audited.",
    ),
    "datasets": Entry(
        "datasets:datasets",
        "Data sets: CSV files under the data folder's datasets/, pinned by their SHA-256.",
    ),
    "db": Entry(
        "db:db",
        "Create and migrate the database.",
    ),
    "demo": Entry(
        "services:demo_command",
        "Run the demo: migrate, seed when empty, start every Steward process; Ctrl-C stops them all.",
    ),
    "drift": Entry(
        "drift:drift_command",
        "Is the production data different from the training data?",
    ),
    "environments": Entry(
        "environments:environments",
        "List, add and rename environments (Dev, Test, Prod and any added between).",
    ),
    "failback": Entry(
        "deployments:failback_command",
        "After a fail-over, serve PIPELINE's primary in ENVIRONMENT again.",
    ),
    "failover": Entry(
        "deployments:failover_command",
        "Serve PIPELINE's armed fallback in ENVIRONMENT now; the primary stays armed to fail back to.",
    ),
    "fallback": Entry(
        "fallback:fallback_group",
        "Fallback rule sets per deployment: show, save a version, arm, fail over to one and back.",
    ),
    "keys": Entry(
        "keys:keys_group",
        "API keys for the scoring service (stored hashed; the secret is shown once).",
    ),
    "loadtest": Entry(
        "loadtest:loadtest_command",
        "Load-test what serves PIPELINE in ENVIRONMENT and store p50/p95/p99, throughput and error rate.",
    ),
    "loadtests": Entry(
        "loadtest:loadtests_command",
        "Recent load tests, newest first: what they measured, who ran them and when.",
    ),
    "monitors": Entry(
        "monitors:monitors",
        "Drift and data-quality monitors on production data.",
    ),
    "permissions": Entry(
        "audit:permissions",
        "Print the permission matrix as docs/permissions.md (Markdown).",
    ),
    "pipelines": Entry(
        "pipelines:pipelines",
        "Register pipelines from specs, list them and their versions, check their artifacts.",
    ),
    "retrain": Entry(
        "training:retrain_command",
        "Retrain pipeline NAME's current spec on production data into a new immutable version.",
    ),
    "retrain-policy": Entry(
        "retrain_policies:retrain_policy",
        "Retrain policies: when a pipeline retrains itself (drift, performance, schedule); audited.",
    ),
    "rollback": Entry(
        "deployments:rollback_command",
        "Serve again a version that served PIPELINE in ENVIRONMENT before (a new ledger entry).",
    ),
    "seed-demo": Entry(
        "services:seed_demo_command",
        "Migrate, then seed demo accounts and sample data if the database is empty.",
    ),
    "serve": Entry(
        "serve:serve_command",
        "Answer POST /v1/ENV/PIPELINE/predict with what the ledger says serves; OpenAPI at /docs.",
    ),
    "shadow": Entry(
        "rollouts:shadow_group",
        "A challenger scores the same requests as the champion; its answers are logged, never returned.",
    ),
    "sla": Entry(
        "sla:sla_group",
        "Service-level targets per deployment (environment + pipeline): latency, throughput, errors.",
    ),
    "sso": Entry(
        "sso:sso",
        "Map identity-provider groups to Steward roles.",
    ),
    "train": Entry(
        "training:train_command",
        "Train pipeline NAME's current spec into a new immutable version.",
    ),
    "users": Entry(
        "users:users",
        "Manage local accounts and their roles.",
    ),
    "worker": Entry(
        "services:worker_command",
        "Run the worker (scheduled checkpoints, artifact checks, monitors) in the foreground.",
    ),
}


def load(name: str) -> click.Command:
    """Import the module that defines command NAME and return the command."""
    module_name, attribute = COMMANDS[name].target.split(":")
    command = getattr(importlib.import_module(f"{PACKAGE}.{module_name}"), attribute)
    if not isinstance(command, click.Command):
        raise TypeError(f"{COMMANDS[name].target} is not a click command")
    return command


class _Listed(click.Command):
    """Stands in for a command in ``steward --help``: its name and help line, nothing imported."""

    def __init__(self, name: str, entry: Entry) -> None:
        super().__init__(name, help=entry.help)


class LazyGroup(click.Group):
    """Loads a command's module only when that command runs (or its own --help is asked for)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *COMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        if ctx.resilient_parsing or _listing(ctx):
            return _Listed(cmd_name, COMMANDS[cmd_name])
        return load(cmd_name)


def _listing(ctx: click.Context) -> bool:
    """True while ``steward --help`` formats the command list (no subcommand is being invoked)."""
    return bool(ctx.meta.get("steward.listing"))


class RootGroup(LazyGroup):
    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        ctx.meta["steward.listing"] = True
        try:
            super().format_commands(ctx, formatter)
        finally:
            ctx.meta["steward.listing"] = False


@click.group(cls=RootGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="steward")
@friendly
def main() -> None:
    """Steward: a control room for mature MLOps.

    Settings come from STEWARD_* environment variables (see docs/configuration.md).
    Logging: STEWARD_LOG_LEVEL (default WARNING for commands) and STEWARD_LOG_FORMAT (text or json).
    """
    from steward.app.logs import configure_logging

    configure_logging(default_level="WARNING")
