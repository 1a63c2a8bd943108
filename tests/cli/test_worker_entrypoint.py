"""`python -m app.worker` (how `steward demo` starts the worker) answers a bad configuration like `steward worker`."""

import os
import subprocess
import sys

from testkit import REPO_ROOT, TEST_SCRYPT_N


def run(args, tmp_path, **settings):
    env = {key: value for key, value in os.environ.items() if not key.startswith("STEWARD_")}
    env |= {"STEWARD_DATA_DIR": str(tmp_path / "data"), "STEWARD_SCRYPT_N": str(TEST_SCRYPT_N), **settings}
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=60,
        check=False,
    )


def test_module_entrypoint_prints_one_line_and_fails_like_the_cli(tmp_path):
    """A database that cannot be opened: one `error:` line, exit code 2, exactly what the CLI prints."""
    unreachable = {"STEWARD_DATABASE_URL": "sqlite:////nonexistent-folder/for/steward.db"}
    module = run(["-m", "steward.app.worker"], tmp_path, **unreachable)
    cli = run(["-m", "steward.app.cli", "worker"], tmp_path, **unreachable)
    assert module.returncode == cli.returncode == 2
    assert "Traceback" not in module.stderr
    lines = module.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "cannot be opened" in lines[0], (
        module.stderr
    )
    assert module.stderr == cli.stderr
