"""What the wheel ships: every page, sample file and the Streamlit config match a package-data pattern.

The wheel itself is built and used from a fresh virtualenv by
``benchmarks/scripts/wheel_check.py`` (too slow for CI); this is the cheap half:
a file added under ``steward/`` that no pattern covers would be missing from
every installed copy.
"""

import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "steward"
PATTERNS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
    "package-data"
]["steward"]
SHIPPED = [
    *sorted((PACKAGE / "pages").glob("*.py")),
    *sorted(
        p
        for p in (PACKAGE / "sample_data").rglob("*")
        if p.is_file() and p.suffix in {".csv", ".toml", ".md"}
    ),
    PACKAGE / "app" / "streamlit_config.toml",
]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_file_is_package_data(path):
    relative = path.relative_to(PACKAGE)
    assert any(
        relative.match(pattern) and len(relative.parts) == len(Path(pattern).parts) for pattern in PATTERNS
    )


def test_the_checkouts_streamlit_config_is_the_packaged_one():
    """`.streamlit/config.toml` (used when Streamlit starts in the checkout) links to the shipped file."""
    assert (ROOT / ".streamlit" / "config.toml").resolve() == (PACKAGE / "app" / "streamlit_config.toml")


def test_the_launcher_passes_every_packaged_setting():
    from steward.app.launcher import config_flags

    config = tomllib.loads((PACKAGE / "app" / "streamlit_config.toml").read_text(encoding="utf-8"))
    flags = config_flags()
    for section, values in config.items():
        for key in values:
            assert f"--{section}.{key}" in flags
    assert flags[flags.index("--server.headless") + 1] == "true"
