"""Load tests of the scoring service, driven by Locust; this module itself never imports Locust.

Importing Locust monkey-patches the whole interpreter with gevent (sockets,
threads, ``time.sleep``). That is harmless in a short process that exists to
generate load, and unacceptable inside the Streamlit server or the worker's
scheduler. So Locust runs only in ``steward loadtest`` (a CLI process of its
own) or in a child process ``python -m steward.app.loadtest RUN_ID`` that the
app starts when someone presses the button, and never in a long-lived one.

The request (permission, audit, the queued row) happens in core before any
process starts; the runner only executes a queued run, once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from steward.core.config import Settings, ensure_writable_dir


def target_url(settings: Settings) -> str:
    """Where the scoring service listens, as its settings say (``STEWARD_SCORING_*``)."""
    host = settings.scoring_address
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address in a URL
    return f"http://{host}:{settings.scoring_port}"


def log_path(settings: Settings, run_id: int) -> Path:
    return ensure_writable_dir(settings.data_dir / "loadtests", "load-test folder") / f"{run_id}.log"


def launch(settings: Settings, run_id: int) -> subprocess.Popen[bytes]:
    """Start the runner for a queued run in its own process and session, so a page rerun cannot stop it.

    The child reads the same ``STEWARD_*`` settings from the environment; its
    output goes to ``<data dir>/loadtests/<id>.log``.
    """
    with log_path(settings, run_id).open("ab") as log:
        return subprocess.Popen(  # noqa: S603 - our own module, our own interpreter, an integer argument
            [sys.executable, "-m", "steward.app.loadtest", str(int(run_id))],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=dict(os.environ),
        )
