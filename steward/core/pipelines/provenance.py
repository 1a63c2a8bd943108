"""What a trained version records about the code that made it: library versions and the git commit.

The commit is read from ``.git`` files (no subprocess, no git binary needed)
and is optional: a wheel install or a tarball has none, and training must not
depend on it.
"""

from __future__ import annotations

import platform
import re
from importlib import metadata
from pathlib import Path

_LIBRARIES = ("scikit-learn", "skops", "numpy", "pandas", "scipy", "pyarrow", "steward")
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def library_versions() -> dict[str, str]:
    """Python and the installed versions of the libraries a pipeline's behaviour depends on."""
    versions = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _git_dir(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / ".git"
        if candidate.is_dir():
            return candidate
        if candidate.is_file():  # a worktree or submodule: "gitdir: <path>"
            text = candidate.read_text(encoding="utf-8", errors="replace").strip()
            if text.startswith("gitdir:"):
                target = Path(text.removeprefix("gitdir:").strip())
                return target if target.is_absolute() else (folder / target).resolve()
    return None


def git_commit(start: str | Path | None = None) -> str | None:
    """The commit checked out in the repository containing ``start`` (default: this package), or None."""
    try:
        git_dir = _git_dir(Path(start or Path(__file__)).resolve())
        if git_dir is None:
            return None
        head = (git_dir / "HEAD").read_text(encoding="utf-8").strip()
        if _SHA.fullmatch(head):
            return head
        if not head.startswith("ref:"):
            return None
        ref = head.removeprefix("ref:").strip()
        common = git_dir
        commondir = git_dir / "commondir"
        if commondir.is_file():
            common = (git_dir / commondir.read_text(encoding="utf-8").strip()).resolve()
        for base in (git_dir, common):
            loose = base / ref
            if loose.is_file():
                value = loose.read_text(encoding="utf-8").strip()
                return value if _SHA.fullmatch(value) else None
        packed = common / "packed-refs"
        if packed.is_file():
            for line in packed.read_text(encoding="utf-8").splitlines():
                parts = line.split()
                if len(parts) == 2 and parts[1] == ref and _SHA.fullmatch(parts[0]):
                    return parts[0]
    except OSError:
        return None
    return None
