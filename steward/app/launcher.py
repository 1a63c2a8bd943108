"""Starting and stopping Steward's processes together (``steward demo``, ``steward app``).

Each process is its own OS process (Streamlit app; later the worker and the
scoring service), started from the repository root so Streamlit finds
``.streamlit/``. Ctrl-C or SIGTERM stops every one of them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import click

from steward.core.config import Settings, load_settings
from steward.core.errors import ConfigurationError
from steward.core.steward import Steward

PACKAGE_DIR = Path(__file__).resolve().parent.parent
ENTRYPOINT = PACKAGE_DIR / "app" / "streamlit_app.py"
# Streamlit's settings ship inside the package (the checkout's `.streamlit/config.toml` links to this file)
# and are passed as flags, so an installed wheel started from any folder runs with them.
STREAMLIT_CONFIG = PACKAGE_DIR / "app" / "streamlit_config.toml"
# Streamlit reads `.streamlit/` (config, secrets) from the folder it starts in: the checkout's root
# when run from a clone, else the folder the command was typed in.
_CHECKOUT = PACKAGE_DIR.parent
START_DIR = (
    _CHECKOUT
    if (_CHECKOUT / ".streamlit").is_dir() and (_CHECKOUT / "pyproject.toml").is_file()
    else Path.cwd()
)


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    url: str = ""


def config_flags(path: Path = STREAMLIT_CONFIG) -> list[str]:
    """``--section.key value`` for every setting of the packaged Streamlit config."""
    flags: list[str] = []
    for section, values in tomllib.loads(path.read_text(encoding="utf-8")).items():
        for key, value in values.items():
            shown = str(value).lower() if isinstance(value, bool) else str(value)
            flags += [f"--{section}.{key}", shown]
    return flags


def streamlit_process(settings: Settings) -> ProcessSpec:
    argv = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ENTRYPOINT),
        *config_flags(),
        "--server.port",
        str(settings.app_port),
        "--server.address",
        settings.app_address,
    ]
    return ProcessSpec("app", argv, url=f"http://{settings.app_address}:{settings.app_port}")


def worker_process() -> ProcessSpec:
    return ProcessSpec("worker", [sys.executable, "-m", "steward.app.worker"])


def scoring_process(settings: Settings) -> ProcessSpec:
    url = f"http://{settings.scoring_address}:{settings.scoring_port}"
    return ProcessSpec("scoring", [sys.executable, "-m", "steward.app.serving"], url=url)


def extra_processes(settings: Settings) -> list[ProcessSpec]:
    """Processes beside the app: the worker and the scoring service."""
    return [worker_process(), scoring_process(settings)]


def traffic_process(settings: Settings, sample_dir: Path) -> ProcessSpec | None:
    """The demo's trickle of sample rows through the scoring service (a fresh, audited API key each start)."""
    from steward.app.demo_traffic import CONFIG_VARIABLE, Target, TrafficPlan, config_json
    from steward.core.setup.demo import demo_traffic_targets, issue_demo_traffic_key

    steward = Steward.open(settings)
    try:
        found = demo_traffic_targets(steward)
        if not found:
            return None
        key = issue_demo_traffic_key(steward)
    finally:
        steward.close()
    targets = [Target(env, pipeline, rows, columns=columns) for env, pipeline, rows, columns in found]
    plan = TrafficPlan()
    where = ", ".join(f"{t.pipeline} in {t.environment}" for t in targets)
    summary = (
        f"{plan.requests_per_second:g} requests/s each to {where}; every {plan.cycle_seconds / 60:g} min a "
        f"{plan.slow_seconds:g} s stretch of {plan.slow_batch_rows}-row batches starting "
        f"{plan.slow_start_seconds:g} s in"
    )
    url = scoring_process(settings).url
    env = {CONFIG_VARIABLE: config_json(url, key, targets, plan)}
    return ProcessSpec("traffic", [sys.executable, "-m", "steward.app.demo_traffic"], env=env, url=summary)


def run_processes(specs: list[ProcessSpec], *, poll_seconds: float = 0.5) -> int:
    """Run until one process exits or we are interrupted; then stop all. Returns an exit code."""
    children: list[tuple[ProcessSpec, subprocess.Popen[bytes]]] = []
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        for spec in specs:
            env = {**os.environ, **spec.env}
            children.append((spec, subprocess.Popen(spec.argv, cwd=START_DIR, env=env)))  # noqa: S603 - our argv
        while not stopping:
            for spec, child in children:
                code = child.poll()
                if code is not None:
                    click.echo(f"{spec.name} exited with code {code}; stopping the others", err=True)
                    return code or 1
            time.sleep(poll_seconds)
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        for _spec, child in children:
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + 10
        for _spec, child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
        click.echo("stopped all Steward processes")


def run_demo(*, seed: bool, sample_dir: Path) -> int:
    from steward.core.setup.demo import DEMO_ACCOUNTS, DEMO_FLAG, DEMO_PASSWORD, is_seeded, seed_demo
    from steward.core.setup.readiness import check_ready_to_serve

    settings = load_settings()
    if settings.production:
        raise ConfigurationError("the demo seeds known passwords; unset STEWARD_PRODUCTION to run it")
    steward = Steward.open(settings)
    click.echo(f"database: {steward.engines.read.url.render_as_string(hide_password=True)}")
    steward.upgrade_database()
    if seed and not is_seeded(steward):
        click.echo("seeding the demo from sample_data/ (first run only)")
        seed_demo(steward, sample_dir, progress=lambda line: click.echo(f"  {line}"))
    check_ready_to_serve(steward, start_dir=START_DIR)  # where the app starts and reads its secrets
    steward.close()
    os.environ[DEMO_FLAG] = "1"  # the sign-in page shows the demo accounts only when the demo runs
    specs = [streamlit_process(settings), *extra_processes(settings)]
    traffic = traffic_process(settings, sample_dir)
    if traffic is not None:
        specs.append(traffic)
    click.echo("")
    click.echo(f"Steward is starting on {specs[0].url}")
    click.echo(f"Scoring service (API docs at /docs): {scoring_process(settings).url}")
    if traffic is not None:
        click.echo(f"Demo traffic: {traffic.url}")
    click.echo(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
    for account in DEMO_ACCOUNTS:
        click.echo(f"  {account.username:6} {', '.join(account.roles):22} {account.why}")
    click.echo("Press Ctrl-C to stop.")
    return run_processes(specs)
