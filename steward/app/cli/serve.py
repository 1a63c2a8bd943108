"""``steward serve``: run the scoring service in this process (FastAPI on uvicorn)."""

from __future__ import annotations

import click


@click.command("serve")
@click.option("--host", default=None, help="Address to listen on (default: STEWARD_SCORING_ADDRESS).")
@click.option("--port", type=int, default=None, help="Port (default: STEWARD_SCORING_PORT).")
@click.option(
    "--poll-seconds", type=float, default=1.0, show_default=True, help="How often to read the ledger."
)
def serve_command(host: str | None, port: int | None, poll_seconds: float) -> None:
    """Answer POST /v1/ENV/PIPELINE/predict with what the ledger says serves; OpenAPI at /docs."""
    from steward.app.serving.__main__ import main

    argv = ["--poll-seconds", str(poll_seconds)]
    if host:
        argv += ["--host", host]
    if port:
        argv += ["--port", str(port)]
    main(argv)
