"""`steward --help` and `steward drift` import only what they use (issue 10, part 6).

Asserted on the modules a real process has loaded, not on time: a probe runs
the command in a fresh interpreter and prints ``sys.modules`` as it exits.
"""

import inspect
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from steward.app.cli.root import COMMANDS, load, main

HEAVY = ("sklearn", "skops", "sqlalchemy", "streamlit", "alembic", "plotly", "apscheduler")
PROBE = """
import atexit, json, runpy, sys
atexit.register(lambda: print("MODULES " + json.dumps(sorted(sys.modules)), file=sys.stderr))
sys.argv = ["steward", *sys.argv[1:]]
runpy.run_module("steward", run_name="__main__")
"""


def loaded_by(*args, cwd=None):
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
    )
    line = next(x for x in proc.stderr.splitlines() if x.startswith("MODULES "))
    return proc, {name.split(".")[0] for name in json.loads(line.removeprefix("MODULES "))}


def test_help_lists_every_command_without_importing_a_heavy_library():
    proc, roots = loaded_by("--help")
    assert proc.returncode == 0, proc.stderr
    for name in COMMANDS:
        assert f"  {name} " in proc.stdout
    assert not roots & {*HEAVY, "pandas", "scipy", "pyarrow", "numpy"}, sorted(roots & {*HEAVY, "pandas"})


def test_drift_imports_no_database_model_or_ui_library(tmp_path):
    rng = np.random.default_rng(0)
    for name, shift in (("ref", 0.0), ("cur", 0.5)):
        pd.DataFrame({"x": rng.normal(shift, 1, 500), "c": rng.choice(["a", "b"], 500)}).to_parquet(
            tmp_path / f"{name}.parquet"
        )
    proc, roots = loaded_by(
        "drift", "--reference", str(tmp_path / "ref.parquet"), "--current", str(tmp_path / "cur.parquet")
    )
    assert "Verdict: DRIFT" in proc.stdout, proc.stderr
    assert not roots & set(HEAVY), sorted(roots & set(HEAVY))


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_listed_help_is_the_commands_own_first_paragraph(name):
    """The registry's help line is what the command's docstring says; a changed docstring fails here."""
    command = load(name)
    assert command.name == name
    first = inspect.cleandoc(command.help or "").split("\n\n")[0].replace("\n", " ")
    assert COMMANDS[name].help == first


def test_a_bad_log_setting_is_one_line_and_exit_2(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "steward", "permissions"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "STEWARD_LOG_LEVEL": "LOUD", "HOME": str(tmp_path)},
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: STEWARD_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'LOUD'"
    ]
    assert main.name == "main"
