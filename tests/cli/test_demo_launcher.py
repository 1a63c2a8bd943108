"""`steward demo` starts every Steward process on the configured port and Ctrl-C stops all of them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import psutil
import pytest

from testkit import REPO_ROOT, TEST_SCRYPT_N


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_demo_serves_prints_accounts_and_ctrl_c_stops_everything(tmp_path):
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("STEWARD_")}
    env.update(
        STEWARD_DATA_DIR=str(tmp_path / "data"),
        STEWARD_SCRYPT_N=str(TEST_SCRYPT_N),
        STEWARD_APP_PORT=str(port),
        STEWARD_APP_ADDRESS="127.0.0.1",
    )
    demo = subprocess.Popen(
        [sys.executable, "-m", "steward.app.cli", "demo", "--no-seed"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline, healthy = time.monotonic() + 90, False
        while time.monotonic() < deadline and not healthy:
            assert demo.poll() is None, demo.stdout.read() if demo.stdout else ""
            try:
                healthy = httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                time.sleep(0.5)
        assert healthy, "the app never answered"
        children = psutil.Process(demo.pid).children(recursive=True)
        assert children, "the demo started no processes"
        os.killpg(demo.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole foreground group
        output, _ = demo.communicate(timeout=30)
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
    assert f"Steward is starting on http://127.0.0.1:{port}" in output
    for name in ("admin", "dana", "bea", "rick", "otto", "vera"):
        assert f"  {name} " in output
    assert "password for all: steward-demo" in output and "stopped all Steward processes" in output
    time.sleep(0.5)
    assert [
        child.pid for child in children if child.is_running() and child.status() != psutil.STATUS_ZOMBIE
    ] == []
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
