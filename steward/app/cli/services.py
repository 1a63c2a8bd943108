"""``steward worker``, ``seed-demo``, ``demo`` and ``app``: start Steward's processes."""

from __future__ import annotations

import sys

import click

from steward.app.cli.context import open_steward, sample_data_dir
from steward.app.errors import friendly


@click.command("worker")
@friendly
def worker_command() -> None:
    """Run the worker (scheduled checkpoints, artifact checks, monitors) in the foreground."""
    from steward.app.worker import main as worker_main

    worker_main()


@click.command("seed-demo")
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


@click.command("demo")
@click.option("--seed/--no-seed", default=True, help="Seed the demo when the database is empty.")
@friendly
def demo_command(seed: bool) -> None:
    """Run the demo: migrate, seed when empty, start every Steward process; Ctrl-C stops them all."""
    from steward.app.launcher import run_demo

    sys.exit(run_demo(seed=seed, sample_dir=sample_data_dir()))


@click.command("app")
@friendly
def app_command() -> None:
    """Start the Streamlit app alone (no seeding)."""
    from steward.app.launcher import START_DIR, run_processes, streamlit_process
    from steward.core.setup.readiness import check_ready_to_serve

    steward = open_steward()
    check_ready_to_serve(steward, start_dir=START_DIR)  # Streamlit runs there and reads its secrets there
    sys.exit(run_processes([streamlit_process(steward.settings)]))
