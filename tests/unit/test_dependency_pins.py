"""Every dependency is pinned to the minor version the tests ran against (issue 2).

`~=2.14` allows any 2.x from 2.14 on; only `~=2.14.0` holds the minor. An unpinned or major-only
pin lets a fresh install pick a version no test has seen, so this reads pyproject.toml and
checks each requirement's form, and that what is installed here satisfies it.
"""

import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _requirements() -> list[str]:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    extras = project.get("optional-dependencies", {})
    return [*project["dependencies"], *(r for group in extras.values() for r in group)]


@pytest.mark.parametrize("line", _requirements())
def test_requirement_is_pinned_to_a_minor_version(line):
    req = Requirement(line)
    specs = list(req.specifier)
    assert len(specs) == 1 and specs[0].operator == "~=", f"{line}: pin with ~=X.Y.0"
    release = specs[0].version.split(".")
    assert len(release) >= 3, f"{line}: ~=X.Y only holds the major version; write ~=X.Y.0"


@pytest.mark.parametrize("line", _requirements())
def test_installed_version_satisfies_the_pin(line):
    req = Requirement(line)
    try:
        installed = version(req.name)
    except PackageNotFoundError:
        pytest.skip(f"{req.name} is not installed in this environment")
    assert req.specifier.contains(Version(installed), prereleases=True), f"{req.name} {installed} vs {line}"
