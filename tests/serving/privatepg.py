"""A private PostgreSQL cluster for tests that stop the database (never the machine's shared one).

``initdb`` into a temporary directory, then ``pg_ctl`` start and stop on a free
loopback port. PostgreSQL refuses to run as root, so as root the commands run
as the ``postgres`` account (``runuser``). :func:`problem` names why a cluster
cannot be made here, so a test can skip with that reason.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from servingkit import free_port

BIN = Path(os.environ.get("STEWARD_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _as_owner(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def problem() -> str | None:
    """Why no private cluster can be started (None: it can)."""
    if not (BIN / "initdb").exists() or not (BIN / "pg_ctl").exists():
        return f"no initdb/pg_ctl under {BIN} (set STEWARD_TEST_PG_BIN)"
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            return "running as root without runuser, and PostgreSQL refuses to run as root"
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres account to run PostgreSQL as"
    return None


@dataclass
class PrivatePostgres:
    directory: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            _as_owner([str(BIN / "pg_ctl"), "-D", str(self.directory / "data"), *args]),
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("-o", options, "-l", str(self.directory / "server.log"), "-w", "start")

    def stop(self) -> None:
        self._ctl("-m", "fast", "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


def create() -> PrivatePostgres:
    """A new cluster (trust authentication, user postgres), started; the caller removes it."""
    directory = Path(tempfile.mkdtemp(prefix="steward-pg-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(directory, owner.pw_uid, owner.pw_gid)
    directory.chmod(0o700)
    subprocess.run(
        _as_owner(
            [str(BIN / "initdb"), "-D", str(directory / "data"), "-U", "postgres", "-A", "trust", "--no-sync"]
        ),
        check=True,
        capture_output=True,
        timeout=120,
    )
    cluster = PrivatePostgres(directory, free_port())
    cluster.start()
    return cluster
