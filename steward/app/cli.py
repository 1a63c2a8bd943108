"""The ``steward`` command: database, users, audit, demo and services.

Errors a user can cause print one line (``error: ...``) and exit with 2;
never a traceback.
"""

from __future__ import annotations

import functools
import getpass
import importlib
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.exc import OperationalError, ProgrammingError

from steward.core.domain.accounts import Actor
from steward.core.errors import StewardError
from steward.core.steward import Steward

F = TypeVar("F", bound=Callable[..., Any])
PACKAGE_DIR = Path(__file__).resolve().parent.parent
AS_HELP = "Act (and be audited) as this user, with their roles, instead of as the CLI."


def cli_actor(purpose: str = "cli") -> Actor:
    """Whoever runs the CLI has the server's shell; the audit log still names the OS account."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    actor = Actor.system_actor(f"{purpose}:{who}")
    return actor


def acting(steward: Steward, as_user: str | None) -> Actor:
    """The CLI acts as itself, or as a named user whose current roles then apply (and are audited)."""
    if not as_user:
        return cli_actor()
    user = steward.users.get(cli_actor(), as_user)
    return Actor(
        username=user.username,
        roles=user.roles,
        user_id=user.id,
        source="cli",
        display_name=user.display_name,
    )


def format_metrics(metrics: Mapping[str, float | None]) -> str:
    return ", ".join(
        f"{name} {value:.3f}" for name, value in sorted(metrics.items()) if isinstance(value, float)
    )


def fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def friendly(func: F) -> F:
    """Turn expected errors into one line on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except StewardError as exc:
            fail(str(exc))
        except (OperationalError, ProgrammingError) as exc:
            text = str(exc.orig or exc).splitlines()[0]
            if "no such table" in text or "does not exist" in text:
                fail(f"the database is not set up ({text}); run `steward db upgrade`")
            fail(f"database error: {text}")
        except KeyboardInterrupt:
            fail("interrupted")

    return wrapper  # type: ignore[return-value]


def open_steward() -> Steward:
    return Steward.open()


class LazyGroup(click.Group):
    """Loads a subcommand's module only when that subcommand runs (or --help lists it).

    Some commands pull in pandas, scipy and scikit-learn; `steward users list`
    should not pay for them.
    """

    lazy: dict[str, str] = {  # noqa: RUF012 - class-level registry of command -> "module:attribute"
        "drift": "steward.app.commands.drift:drift_command",
        # operations (issue 11): fail over and back, roll back, load tests, SLA targets
        "failover": "steward.app.commands.deployments:failover_command",
        "failback": "steward.app.commands.deployments:failback_command",
        "rollback": "steward.app.commands.deployments:rollback_command",
        "loadtest": "steward.app.commands.loadtest:loadtest_command",
        "loadtests": "steward.app.commands.loadtest:loadtests_command",
        "sla": "steward.app.commands.sla:sla_group",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module_name, attribute = self.lazy[cmd_name].split(":")
            command = getattr(importlib.import_module(module_name), attribute)
            return command if isinstance(command, click.Command) else None
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="steward")
def main() -> None:
    """Steward: a control room for mature MLOps.

    Settings come from STEWARD_* environment variables (see docs/configuration.md).
    """


# ---- database -----------------------------------------------------------------
@main.group()
def db() -> None:
    """Create and migrate the database."""


@db.command("upgrade")
@friendly
def db_upgrade() -> None:
    """Apply all migrations (safe to run again) and create the default environments."""
    steward = open_steward()
    steward.upgrade_database()
    from steward.core.adapters.db.migrate import current_revision

    click.echo(
        f"database at revision {current_revision(steward.engines)}: "
        f"{steward.engines.read.url.render_as_string(hide_password=True)}"
    )


@db.command("current")
@friendly
def db_current() -> None:
    """Show the database's migration revision."""
    from steward.core.adapters.db.migrate import current_revision, head_revision

    steward = open_steward()
    click.echo(f"current {current_revision(steward.engines)}, latest {head_revision()}")


# ---- users --------------------------------------------------------------------
@main.group()
def users() -> None:
    """Manage local accounts and their roles."""


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@users.command("add")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, help="Repeat for several roles.")
@click.option("--display-name", default="", help="Name shown in the app.")
@click.option("--email", default=None)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@friendly
def users_add(
    name: str, roles: tuple[str, ...], display_name: str, email: str | None, password_stdin: bool
) -> None:
    """Create a local account NAME with one or more --role."""
    from steward.core.domain.names import validate_username
    from steward.core.domain.roles import parse_roles

    validate_username(name)  # fail before asking for a password
    parse_roles(roles)
    steward = open_steward()
    password = _read_password(password_stdin)
    user = steward.users.create(
        cli_actor(), name, roles=roles, password=password, display_name=display_name, email=email
    )
    click.echo(f"created {user.username} with roles {', '.join(sorted(r.value for r in user.roles))}")


@users.command("list")
@friendly
def users_list() -> None:
    """List accounts with their roles."""
    steward = open_steward()
    for user in steward.users.list(cli_actor()):
        state = "active" if user.active else "inactive"
        roles = ",".join(sorted(r.value for r in user.roles)) or "-"
        click.echo(f"{user.username:24} {state:9} {user.auth_source:6} {roles}")


@users.command("set-roles")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True)
@friendly
def users_set_roles(name: str, roles: tuple[str, ...]) -> None:
    """Replace NAME's roles."""
    user = open_steward().users.set_roles(cli_actor(), name, roles)
    click.echo(f"{user.username} now has roles {', '.join(sorted(r.value for r in user.roles))}")


@users.command("deactivate")
@click.argument("name")
@friendly
def users_deactivate(name: str) -> None:
    """Deactivate NAME and end their open sessions."""
    user = open_steward().users.set_active(cli_actor(), name, False)
    click.echo(f"{user.username} deactivated")


@users.command("activate")
@click.argument("name")
@friendly
def users_activate(name: str) -> None:
    """Reactivate NAME."""
    user = open_steward().users.set_active(cli_actor(), name, True)
    click.echo(f"{user.username} activated")


@users.command("set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True)
@friendly
def users_set_password(name: str, password_stdin: bool) -> None:
    """Set NAME's password (ends their sessions)."""
    steward = open_steward()
    user = steward.users.set_password(cli_actor(), name, _read_password(password_stdin))
    click.echo(f"password set for {user.username}")


# ---- environments -------------------------------------------------------------------
@main.group()
def environments() -> None:
    """List, add and rename environments (Dev, Test, Prod and any added between)."""


@environments.command("list")
@friendly
def environments_list() -> None:
    """Environments in promotion order, with their tier."""
    for env in open_steward().environments.list():
        click.echo(f"{env.position:<5} {env.name:24} {env.tier.value:5} {env.description}")


@environments.command("add")
@click.argument("name")
@click.option("--tier", required=True, help="dev, test or prod: decides who may act there.")
@click.option("--after", "after", required=True, help="The environment the new one follows.")
@click.option("--description", default="", help="What the environment is for.")
@click.option("--as", "as_user", default=None, help=AS_HELP)
@friendly
def environments_add(name: str, tier: str, after: str, description: str, as_user: str | None) -> None:
    """Add environment NAME right after --after (e.g. Staging after Test)."""
    steward = open_steward()
    environment = steward.environments.add(
        acting(steward, as_user), name, tier, after=after, description=description
    )
    click.echo(f"added {environment.name} ({environment.tier.value} tier) after {after}")


@environments.command("rename")
@click.argument("old")
@click.argument("new")
@click.option("--as", "as_user", default=None, help=AS_HELP)
@friendly
def environments_rename(old: str, new: str, as_user: str | None) -> None:
    """Rename environment OLD to NEW; deployments, policies and history stay with it."""
    steward = open_steward()
    environment = steward.environments.rename(acting(steward, as_user), old, new)
    click.echo(f"renamed {old} to {environment.name} ({environment.tier.value} tier)")


# ---- single sign-on ---------------------------------------------------------------
@main.group()
def sso() -> None:
    """Map identity-provider groups to Steward roles."""


@sso.command("map")
@click.argument("group")
@click.argument("role")
@friendly
def sso_map(group: str, role: str) -> None:
    """Give members of GROUP the ROLE."""
    mapping = open_steward().group_mappings.add(cli_actor(), group, role)
    click.echo(f"group {mapping.group_name!r} -> {mapping.role.value} (#{mapping.id})")


@sso.command("unmap")
@click.argument("mapping_id", type=int)
@friendly
def sso_unmap(mapping_id: int) -> None:
    """Remove mapping MAPPING_ID."""
    open_steward().group_mappings.remove(cli_actor(), mapping_id)
    click.echo(f"mapping #{mapping_id} removed")


@sso.command("list")
@friendly
def sso_list() -> None:
    """List group mappings."""
    for mapping in open_steward().group_mappings.list(cli_actor()):
        click.echo(f"#{mapping.id:<4} {mapping.group_name:40} {mapping.role.value}")


# ---- pipelines --------------------------------------------------------------------
@main.group()
def pipelines() -> None:
    """Register pipelines from specs, list them and their versions, check their artifacts."""


@pipelines.command("register")
@click.argument("spec_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "as_user", default=None, help=AS_HELP)
@friendly
def pipelines_register(spec_file: Path, as_user: str | None) -> None:
    """Register (or update the spec of) the pipeline described by SPEC_FILE (TOML)."""
    steward = open_steward()
    pipeline = steward.pipelines.register(acting(steward, as_user), spec_file.read_bytes())
    click.echo(
        f"registered {pipeline.name} ({pipeline.task}, predicts {pipeline.target}); "
        f"spec {pipeline.spec_digest[:12]}"
    )


@pipelines.command("list")
@friendly
def pipelines_list() -> None:
    """Pipelines with their latest version and its headline metric."""
    from steward.core.domain.registry import PRIMARY_METRIC

    for item in open_steward().pipelines.list():
        latest = item.latest
        metric = PRIMARY_METRIC.get(item.pipeline.task, "")
        value = latest.metrics.get(metric) if latest else None
        shown = f"{metric} {value:.3f}" if isinstance(value, float) else "-"
        label = latest.label if latest else "no versions"
        click.echo(f"{item.pipeline.name:28} {item.pipeline.task:15} {label:12} {shown}")


@pipelines.command("versions")
@click.argument("name")
@friendly
def pipelines_versions(name: str) -> None:
    """Every version of NAME with its lineage digests and metrics."""
    for version in open_steward().pipelines.versions(name):
        metrics = format_metrics(version.metrics)
        click.echo(
            f"{version.label:5} {version.trained_at:%Y-%m-%d %H:%M} {version.trained_by:18} "
            f"data {version.data_digest[:12]} artifact {version.artifact_sha256[:12]}  {metrics}"
        )


@pipelines.command("import")
@click.argument("name")
@click.argument("artifact", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--as", "as_user", default=None, help=AS_HELP)
@friendly
def pipelines_import(name: str, artifact: Path, as_user: str | None) -> None:
    """Register a fitted pipeline saved with skops (ARTIFACT) as a new version of NAME.

    A file over STEWARD_MAX_UPLOAD_BYTES is refused by its size before it is
    read; pickle and joblib files are refused without running anything.
    """
    steward = open_steward()
    version = steward.pipelines.import_artifact(
        acting(steward, as_user), name, artifact, filename=artifact.name
    )
    metrics = format_metrics(version.metrics)
    click.echo(f"registered {artifact.name} as {version.pipeline_name} {version.label}: {metrics}")


@pipelines.command("verify")
@friendly
def pipelines_verify() -> None:
    """Check every stored artifact against its registered SHA-256; exit 1 on any mismatch."""
    steward = open_steward()
    problems = steward.pipelines.verify_artifacts(cli_actor())
    for problem in problems:
        click.echo(f"MISMATCH {problem}")
    if problems:
        sys.exit(1)
    click.echo("every artifact matches its registered digest")


# ---- data sets --------------------------------------------------------------------
@main.group()
def datasets() -> None:
    """Data sets: CSV files under the data folder's datasets/, pinned by their SHA-256."""


@datasets.command("list")
@friendly
def datasets_list() -> None:
    """Registered data sets with their role, rows and digest."""
    for dataset in open_steward().datasets.list():
        click.echo(
            f"{dataset.name:32} {dataset.role:10} {dataset.rows:>9} rows  sha256 {dataset.sha256[:12]}"
        )


@datasets.command("register")
@click.argument("name")
@click.argument("path")
@click.option("--role", type=click.Choice(["training", "production", "labels"]), required=True)
@click.option("--description", default="")
@click.option("--as", "as_user", default=None, help=AS_HELP)
@friendly
def datasets_register(name: str, path: str, role: str, description: str, as_user: str | None) -> None:
    """Register PATH (relative to the data folder's datasets/) as data set NAME."""
    steward = open_steward()
    dataset = steward.datasets.register(
        acting(steward, as_user), name, path, role=role, description=description
    )
    click.echo(
        f"registered {dataset.name} ({dataset.role}, {dataset.rows} rows, {len(dataset.columns)} columns); "
        f"sha256 {dataset.sha256[:12]}"
    )


@main.command("train")
@click.argument("name")
@click.option("--as", "as_user", default=None, help=AS_HELP)
@click.option("--no-importances", is_flag=True, help="Skip permutation importances (faster).")
@friendly
def train_command(name: str, as_user: str | None, no_importances: bool) -> None:
    """Train pipeline NAME's current spec into a new immutable version."""
    steward = open_steward()
    version = steward.pipelines.train(acting(steward, as_user), name, importances=not no_importances)
    metrics = format_metrics(version.metrics)
    click.echo(f"trained {version.pipeline_name} {version.label} on {version.data_rows} rows: {metrics}")


@main.command("retrain")
@click.argument("name")
@click.option(
    "--environment", required=True, help="Where the production data comes from (its tier decides who may)."
)
@click.option("--dataset", required=True, help="A registered production data set.")
@click.option("--labels", default=None, help="A labels data set holding the target (delayed labels).")
@click.option("--id-column", default=None, help="The id column joining --labels to the production rows.")
@click.option("--as", "as_user", default=None, help=AS_HELP)
@click.option("--no-importances", is_flag=True, help="Skip permutation importances (faster).")
@friendly
def retrain_command(
    name: str,
    environment: str,
    dataset: str,
    labels: str | None,
    id_column: str | None,
    as_user: str | None,
    no_importances: bool,
) -> None:
    """Retrain pipeline NAME's current spec on production data into a new immutable version.

    The target comes with the data set, or from --labels joined on --id-column;
    rows whose label has not arrived are left out.
    """
    steward = open_steward()
    version = steward.pipelines.retrain(
        acting(steward, as_user),
        name,
        environment=environment,
        dataset=dataset,
        labels=labels,
        id_column=id_column,
        importances=not no_importances,
    )
    metrics = format_metrics(version.metrics)
    click.echo(
        f"retrained {version.pipeline_name} {version.label} on {version.data_rows} rows of {dataset} "
        f"from {environment}: {metrics}"
    )


# ---- monitors and the worker ------------------------------------------------------
@main.group()
def monitors() -> None:
    """Drift and data-quality monitors on production data."""


@monitors.command("add")
@click.option("--pipeline", required=True)
@click.option("--environment", required=True)
@click.option("--dataset", required=True, help="A registered production data set.")
@click.option("--window", required=True, help="day, week, month (with --time-column) or rows:N")
@click.option("--time-column", default=None)
@click.option("--labels", "labels_dataset", default=None, help="A registered labels data set.")
@click.option(
    "--labels-database", default=None, help="Or: a configured database (STEWARD_SOURCE_DATABASES)..."
)
@click.option("--labels-query", default=None, help="...and the SELECT that returns the labels.")
@click.option("--id-column", default=None, help="Joins production rows to their labels.")
@click.option("--label-column", default=None)
@click.option("--mode", type=click.Choice(["fixed", "calibrated"]), default="fixed")
@click.option("--every-minutes", type=int, default=1440)
@click.option("--as", "as_user", default=None, help=AS_HELP)
@friendly
def monitors_add(as_user: str | None, **options: Any) -> None:
    """Watch a pipeline's deployment in an environment on a production data set."""
    steward = open_steward()
    monitor = steward.monitoring.add_monitor(acting(steward, as_user), **options)
    click.echo(
        f"monitor #{monitor.id}: {monitor.pipeline_name} in {monitor.environment} on {monitor.dataset}, "
        f"window {monitor.window}"
    )


@monitors.command("list")
@friendly
def monitors_list() -> None:
    """Monitors and how their last run went."""
    steward = open_steward()
    for monitor in steward.monitoring.monitors():
        last = steward.monitoring.last_run(monitor.id)
        state = f"{last.status} {last.started_at:%Y-%m-%d %H:%M} {last.detail}" if last else "never run"
        click.echo(
            f"#{monitor.id:<3} {monitor.pipeline_name:20} {monitor.environment:6} {monitor.dataset:24} "
            f"{monitor.window:8} {state}"
        )


@monitors.command("run")
@click.argument("monitor_id", type=int)
@click.option("--as", "as_user", default=None, help=AS_HELP)
@friendly
def monitors_run(monitor_id: int, as_user: str | None) -> None:
    """Run monitor MONITOR_ID now: score, cut into windows, check drift, quality and performance."""
    steward = open_steward()
    run = steward.monitoring.run(acting(steward, as_user), monitor_id)
    click.echo(f"{run.status}: {run.detail} ({run.rows} rows, {run.seconds:.1f} s)")
    if run.status == "failed":
        sys.exit(1)


@main.command("worker")
@friendly
def worker_command() -> None:
    """Run the worker (scheduled checkpoints, artifact checks, monitors) in the foreground."""
    from steward.app.worker import main as worker_main

    worker_main()


# ---- audit --------------------------------------------------------------------
@main.group()
def audit() -> None:
    """Verify, checkpoint and export the tamper-evident audit log."""


@audit.command("verify")
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Compare with this checkpoint instead of the newest one in the checkpoint folder.",
)
@friendly
def audit_verify(checkpoint_file: Path | None) -> None:
    """Check every link of the chain; exit 1 and name the first bad event if broken."""
    from steward.core.domain.checkpoint import Checkpoint

    steward = open_steward()
    point = Checkpoint.from_json(checkpoint_file.read_text(encoding="utf-8")) if checkpoint_file else None
    result = steward.audit.verify(point)
    click.echo(result.summary())
    if not result.ok:
        sys.exit(1)


@audit.command("checkpoint")
@friendly
def audit_checkpoint() -> None:
    """Sign the chain's head and write it to the checkpoint folder (outside the database)."""
    point, path = open_steward().audit.checkpoint(cli_actor())
    click.echo(f"checkpoint #{point.seq} {point.hash[:16]} written to {path}")


@audit.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True, path_type=Path), required=True)
@click.option("--actor", default="")
@click.option("--action", default="", help="Action prefix, e.g. auth. or user.create")
@friendly
def audit_export(fmt: str, output: Path, actor: str, action: str) -> None:
    """Export events (CSV cells that could run as formulas are neutralised)."""
    from steward.core.services.audit import AuditFilter

    data = open_steward().audit.export(cli_actor(), AuditFilter(actor=actor, action=action), fmt=fmt)
    output.write_bytes(data)
    click.echo(f"wrote {output}")


@main.command("permissions")
def permissions() -> None:
    """Print the permission matrix as docs/permissions.md (Markdown)."""
    from steward.core.domain.permissions import render_document

    click.echo(render_document(), nl=False)


# ---- demo and services ----------------------------------------------------------
def sample_data_dir() -> Path:
    return Path(os.environ.get("STEWARD_SAMPLE_DATA", PACKAGE_DIR / "sample_data"))


@main.command("seed-demo")
@friendly
def seed_demo_command() -> None:
    """Migrate, then seed demo accounts and sample data if the database is empty."""
    from steward.core.setup.demo import is_seeded, seed_demo

    steward = open_steward()
    steward.upgrade_database()
    if is_seeded(steward):
        click.echo("database already has users; not seeding")
        return
    seed_demo(steward, sample_data_dir(), progress=lambda line: click.echo(f"  {line}"))
    click.echo("demo seeded")


@main.command("demo")
@click.option("--seed/--no-seed", default=True, help="Seed the demo when the database is empty.")
@friendly
def demo(seed: bool) -> None:
    """Run the demo: migrate, seed when empty, start every Steward process; Ctrl-C stops them all."""
    from steward.app.launcher import run_demo

    sys.exit(run_demo(seed=seed, sample_dir=sample_data_dir()))


@main.command("app")
@friendly
def app_command() -> None:
    """Start the Streamlit app alone (no seeding)."""
    from steward.app.launcher import START_DIR, run_processes, streamlit_process
    from steward.core.setup.readiness import check_ready_to_serve

    steward = open_steward()
    check_ready_to_serve(steward, start_dir=START_DIR)  # Streamlit runs there and reads its secrets there
    sys.exit(run_processes([streamlit_process(steward.settings)]))


if __name__ == "__main__":
    main()
