"""Build the wheel, install it into a fresh virtualenv, and use it away from the checkout.

    .venv/bin/python benchmarks/scripts/wheel_check.py          # or: make wheel-check
    .venv/bin/python benchmarks/scripts/wheel_check.py --full   # also installs every dependency (slow)

Checks that the wheel holds one top-level package (``steward``), that the
installed package has its pages, its sample data and its Streamlit config,
and that ``python -m steward --help`` runs from it. By default the fresh
virtualenv borrows the already-installed dependencies from this one (a path
entry, not its ``.pth`` files, so the checkout's editable ``steward`` stays
out); ``--full`` installs them from ``requirements.lock`` instead. Too slow
for CI's test run, hence a script: run it before a release.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, sys
from importlib.resources import files
from pathlib import Path
import steward
from steward.app import launcher
pkg = files("steward")
root = Path(str(pkg))
print(json.dumps({
    "location": steward.__file__,
    "pages": sorted(p.name for p in pkg.joinpath("pages").iterdir() if p.name.endswith(".py")),
    "sample_data": sorted(str(p.relative_to(root)) for p in (root / "sample_data").rglob("*.*")),
    "config_flags": launcher.config_flags(),
    "entrypoint": launcher.ENTRYPOINT.is_file(),
}))
"""


def run(argv: list[str], cwd: Path) -> str:
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(argv[:4])} ...\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return proc.stdout


def main() -> None:
    import json

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--full", action="store_true", help="Install the dependencies too (from the lock).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="steward-wheel-") as tmp:
        work = Path(tmp)
        run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--quiet",
                "--no-deps",
                "-w",
                str(work / "dist"),
                str(ROOT),
            ],
            work,
        )
        (wheel,) = (work / "dist").glob("steward-*.whl")
        tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
        others = sorted(t for t in tops if t != "steward" and not t.endswith(".dist-info"))
        assert not others, f"the wheel installs top-level packages besides steward: {others}"
        venv = work / "venv"
        run([sys.executable, "-m", "venv", str(venv)], work)
        python = venv / "bin" / "python"
        if args.full:
            run(
                [
                    str(python),
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "-c",
                    str(ROOT / "requirements.lock"),
                    str(wheel),
                ],
                work,
            )
        else:
            run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], work)
            site = Path(
                run(
                    [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], work
                ).strip()
            )
            (site / "borrowed-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
        elsewhere = work / "elsewhere"
        elsewhere.mkdir()
        found = json.loads(run([str(python), "-c", PROBE], elsewhere))
        assert found["location"].startswith(str(venv)), (
            f"steward imported from {found['location']}, not the wheel"
        )
        pages = sorted(p.name for p in (ROOT / "steward" / "pages").glob("*.py"))
        assert found["pages"] == pages, f"pages in the wheel {found['pages']} vs the checkout {pages}"
        for needed in (
            "sample_data/README.md",
            "sample_data/credit/train.csv",
            "sample_data/specs/bike_demand.toml",
        ):
            assert needed in found["sample_data"], f"{needed} is missing from the wheel"
        assert "--theme.primaryColor" in found["config_flags"], (
            "the Streamlit config is missing from the wheel"
        )
        assert found["entrypoint"], "the Streamlit entrypoint is missing from the wheel"
        help_text = run([str(python), "-m", "steward", "--help"], elsewhere)
        assert "drift" in help_text and "demo" in help_text, help_text
        sys.stdout.write(
            f"ok: {wheel.name}: {len(found['pages'])} pages, {len(found['sample_data'])} sample files, "
            f"Streamlit config, `python -m steward --help` from {venv.name}\n"
        )


if __name__ == "__main__":
    main()
