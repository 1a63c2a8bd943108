"""``steward pipelines``: register, list, import and verify pipelines."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from steward.app.cli.context import AS_HELP, acting, cli_actor, format_metrics, open_steward
from steward.app.errors import friendly


@click.group("pipelines")
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
