"""A real ``steward serve`` process on a free loopback port, over a real database (no tests here)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from steward.core.steward import Steward


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Service:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def client(self, key: str | None = None, timeout: float = 10.0) -> httpx.Client:
        headers = {"X-API-Key": key} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"steward serve exited:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"steward serve never became ready:\n{self.output()}")


def serving_env(steward: Steward) -> dict[str, str]:
    s = steward.settings
    return {
        **os.environ,
        "STEWARD_DATABASE_URL": s.resolved_database_url,
        "STEWARD_DATA_DIR": str(s.data_dir),
        "STEWARD_SECRET_KEY": s.secret_key.get_secret_value(),
        "STEWARD_SCRYPT_N": str(s.scrypt_n),
    }


@contextmanager
def serving(steward: Steward, tmp_path: Path, *extra: str, ready: bool = True) -> Iterator[Service]:
    """Run ``python -m steward.app.serving`` (what ``steward serve`` runs) until the block ends."""
    port = free_port()
    log_path = tmp_path / f"serve-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "steward.app.serving",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--poll-seconds",
                "0.3",
                "--flush-seconds",
                "0.1",
                *extra,
            ],
            env=serving_env(steward),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    service = Service(f"http://127.0.0.1:{port}", process, log_path)
    try:
        if ready:
            service.wait_ready()
        yield service
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
