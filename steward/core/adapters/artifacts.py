"""Model artifacts on disk: skops only, written atomically, pinned by SHA-256, loaded with a fixed allow-list.

Why so careful: pickle, joblib and cloudpickle run code when loaded, so a model
file is a program unless proven otherwise. Here:

- writes use ``skops.io.dumps`` (never pickle) into a temporary file in the
  target folder, fsync, a no-clobber link (or rename) to the final name, and an
  fsync of the folder: a crash leaves the whole artifact or none;
- ``load`` checks the SHA-256 recorded at registration *before* parsing, so a
  changed file is refused naming the version;
- before skops builds anything, the file's ``schema.json`` (plain JSON) is
  read and every type and loader it names must be in :data:`ALLOWED_NODE_TYPES`
  and :data:`ALLOWED_LOADERS`, and skops' own list of untrusted types must be
  within :data:`ALLOWED_TYPES`. All three lists are fixed here, computed from the
  estimators Steward registers (``tests/unit/pipelines/test_pipelines_artifact_types.py``
  regenerates and checks them), never read from the artifact;
- an upload over the configured limit is refused by its size before it is
  read (:func:`read_upload`), with a message stating the limit exactly;
- an upload that is a pickle, a joblib file or anything but a skops zip is
  refused with a message saying what it looks like, and nothing is unpickled;
- once built, every array is checked for structure (tree nodes in range and
  the like) and run-time parameters (``n_jobs``, ``verbose``...) are reset
  (:mod:`steward.core.pipelines.inspection`) before anything predicts;
- temporary files a crash left behind are swept only once they are old
  enough that no write can still be using them (:meth:`LocalArtifactStore.sweep`).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Protocol

import pandas as pd
import skops.io as sio
from sklearn.pipeline import Pipeline

from steward.core.errors import AlreadyExists, IntegrityError, InvalidInput
from steward.core.pipelines.inspection import check_structure, reset_runtime_params
from steward.core.pipelines.names import validate_name
from steward.core.pipelines.sandbox import Limits, run_isolated
from steward.core.pipelines.sources import check_size

ARTIFACT_SUFFIX = ".skops"
TEMP_PREFIX = ".partial-"
DEFAULT_MAX_BYTES = 500_000_000
MAX_UNCOMPRESSED_FACTOR = 20
MAX_MEMBERS = 200_000
MAX_SCHEMA_BYTES = 200_000_000
ALLOWED_PROTOCOLS = frozenset({2})
# A temporary file younger than this may belong to a write in progress: sweeping leaves it alone.
SAFE_TEMP_AGE = timedelta(hours=1)

Upload = bytes | bytearray | memoryview | Path | BinaryIO

# Types skops does not trust by default but registered pipelines contain.
# Passed as ``trusted=`` to ``skops.io.loads``; fixed here, never read from a file.
ALLOWED_TYPES: tuple[str, ...] = (
    "numpy.dtype",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.tree._tree.Tree",
)

# Every skops loader a registered pipeline's schema uses.
ALLOWED_LOADERS: frozenset[str] = frozenset(
    {
        "DTypeNode",
        "DictNode",
        "JsonNode",
        "ListNode",
        "LossNode",
        "NdArrayNode",
        "ObjectNode",
        "RandomGeneratorNode",
        "RandomStateNode",
        "SliceNode",
        "TreeNode",
        "TupleNode",
        "TypeNode",
    }
)

# Every (module, class) a registered pipeline's schema names.
ALLOWED_NODE_TYPES: frozenset[tuple[str, str]] = frozenset(
    {
        ("builtins", "dict"),
        ("builtins", "list"),
        ("builtins", "slice"),
        ("builtins", "str"),
        ("builtins", "tuple"),
        ("numpy", "dtype"),
        ("numpy", "float64"),
        ("numpy", "int64"),
        ("numpy", "ndarray"),
        ("numpy", "uint64"),
        ("numpy.random._generator", "Generator"),
        ("numpy.random.mtrand", "RandomState"),
        ("sklearn._loss._loss", "CyAbsoluteError"),
        ("sklearn._loss._loss", "CyExponentialLoss"),
        ("sklearn._loss._loss", "CyHalfBinomialLoss"),
        ("sklearn._loss._loss", "CyHalfGammaLoss"),
        ("sklearn._loss._loss", "CyHalfMultinomialLoss"),
        ("sklearn._loss._loss", "CyHalfPoissonLoss"),
        ("sklearn._loss._loss", "CyHalfSquaredError"),
        ("sklearn._loss._loss", "CyHuberLoss"),
        ("sklearn._loss._loss", "CyPinballLoss"),
        ("sklearn._loss.link", "HalfLogitLink"),
        ("sklearn._loss.link", "IdentityLink"),
        ("sklearn._loss.link", "Interval"),
        ("sklearn._loss.link", "LogLink"),
        ("sklearn._loss.link", "LogitLink"),
        ("sklearn._loss.link", "MultinomialLogit"),
        ("sklearn._loss.loss", "AbsoluteError"),
        ("sklearn._loss.loss", "ExponentialLoss"),
        ("sklearn._loss.loss", "HalfBinomialLoss"),
        ("sklearn._loss.loss", "HalfGammaLoss"),
        ("sklearn._loss.loss", "HalfMultinomialLoss"),
        ("sklearn._loss.loss", "HalfPoissonLoss"),
        ("sklearn._loss.loss", "HalfSquaredError"),
        ("sklearn._loss.loss", "HuberLoss"),
        ("sklearn._loss.loss", "PinballLoss"),
        ("sklearn.compose._column_transformer", "ColumnTransformer"),
        ("sklearn.dummy", "DummyClassifier"),
        ("sklearn.dummy", "DummyRegressor"),
        ("sklearn.ensemble._forest", "RandomForestClassifier"),
        ("sklearn.ensemble._forest", "RandomForestRegressor"),
        ("sklearn.ensemble._gb", "GradientBoostingClassifier"),
        ("sklearn.ensemble._gb", "GradientBoostingRegressor"),
        ("sklearn.ensemble._hist_gradient_boosting.binning", "_BinMapper"),
        ("sklearn.ensemble._hist_gradient_boosting.gradient_boosting", "HistGradientBoostingClassifier"),
        ("sklearn.ensemble._hist_gradient_boosting.gradient_boosting", "HistGradientBoostingRegressor"),
        ("sklearn.ensemble._hist_gradient_boosting.predictor", "TreePredictor"),
        ("sklearn.impute._base", "MissingIndicator"),
        ("sklearn.impute._base", "SimpleImputer"),
        ("sklearn.linear_model._logistic", "LogisticRegression"),
        ("sklearn.linear_model._ridge", "Ridge"),
        ("sklearn.pipeline", "Pipeline"),
        ("sklearn.preprocessing._data", "StandardScaler"),
        ("sklearn.preprocessing._encoders", "OneHotEncoder"),
        ("sklearn.preprocessing._function_transformer", "FunctionTransformer"),
        ("sklearn.preprocessing._label", "LabelEncoder"),
        ("sklearn.tree._classes", "DecisionTreeClassifier"),
        ("sklearn.tree._classes", "DecisionTreeRegressor"),
        ("sklearn.tree._tree", "Tree"),
    }
)


@dataclass(frozen=True)
class StoredArtifact:
    """Where an artifact is (``uri``: POSIX path relative to the store root) and what it must hash to."""

    uri: str
    sha256: str
    size: int

    def to_dict(self) -> dict[str, Any]:
        return {"uri": self.uri, "sha256": self.sha256, "size": self.size}


@dataclass(frozen=True)
class SweepResult:
    """What a sweep did: temporary files removed, and those kept because they may still be being written."""

    removed: tuple[str, ...]
    kept: tuple[str, ...]


class ArtifactStore(Protocol):
    """What the registry needs from artifact storage (local folder today, object storage later)."""

    def put(self, pipeline_name: str, version_label: str, pipeline: Pipeline) -> StoredArtifact: ...

    def load(self, uri: str, expected_sha256: str, version_label: str) -> Pipeline: ...

    def discard(self, uri: str) -> None: ...

    def read_verified(self, uri: str, expected_sha256: str, version_label: str) -> bytes: ...

    def sweep(self, *, older_than: timedelta = SAFE_TEMP_AGE, now: datetime | None = None) -> SweepResult: ...


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _describe_non_skops(data: bytes) -> str:
    """What a file that is not a skops zip looks like, for the refusal message."""
    head = data[:8]
    if head[:1] == b"\x80":
        return "a Python pickle"
    if head[:2] == b"ZF" or head[:1] == b"\x78":
        return "a joblib (zlib-compressed pickle) file"
    if head[:2] == b"\x1f\x8b":
        return "a gzip-compressed file (joblib or pickle)"
    if head[:3] == b"BZh":
        return "a bz2-compressed file (joblib or pickle)"
    if head[:6] == b"\xfd7zXZ\x00" or head[:3] == b"\x5d\x00\x00":
        return "an xz/lzma-compressed file (joblib or pickle)"
    if head[:1] in (b"(", b"c", b"]", b"}", b"I", b"N", b"S", b"V"):
        return "possibly a protocol-0 Python pickle"
    return "not a skops file"


def _walk(node: Any, found: set[tuple[str, str, str]]) -> None:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            if "__class__" in current or "__loader__" in current:
                found.add(
                    (
                        str(current.get("__module__", "")),
                        str(current.get("__class__", "")),
                        str(current.get("__loader__", "")),
                    )
                )
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)


def inspect_artifact(data: bytes, *, what: str = "artifact", max_bytes: int = DEFAULT_MAX_BYTES) -> list[str]:
    """Refuse anything but a skops file whose every type is allowed; return skops' untrusted types.

    Reads only the zip directory and ``schema.json`` (JSON); constructs no object.
    Raises :class:`InvalidInput` naming the problem.
    """
    if len(data) == 0:
        raise InvalidInput(f"{what} is empty")
    check_size(len(data), max_bytes, what)
    if not data.startswith(b"PK\x03\x04"):
        kind = _describe_non_skops(data)
        raise InvalidInput(
            f"{what} is {kind}; only skops files are accepted (pickle and joblib run code when loaded)"
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise InvalidInput(f"{what} is a damaged zip file, not a skops file") from None
    with archive:
        if len(members) > MAX_MEMBERS:
            raise InvalidInput(f"{what} has {len(members)} members; the limit is {MAX_MEMBERS}")
        unpacked = sum(member.file_size for member in members)
        if unpacked > max(max_bytes, len(data) * MAX_UNCOMPRESSED_FACTOR):
            raise InvalidInput(f"{what} unpacks to {unpacked:,} bytes, too large for its size (zip bomb?)")
        names = {member.filename for member in members}
        if "schema.json" not in names:
            raise InvalidInput(f"{what} is a zip file without schema.json, not a skops file")
        if archive.getinfo("schema.json").file_size > MAX_SCHEMA_BYTES:
            raise InvalidInput(f"{what}: schema.json is larger than {MAX_SCHEMA_BYTES:,} bytes")
        try:
            schema = json.loads(archive.read("schema.json"))
        except (ValueError, zipfile.BadZipFile, OSError, RecursionError):
            raise InvalidInput(f"{what}: schema.json is not valid JSON") from None
    if not isinstance(schema, dict) or schema.get("protocol") not in ALLOWED_PROTOCOLS:
        protocol = schema.get("protocol") if isinstance(schema, dict) else None
        raise InvalidInput(f"{what}: unsupported skops protocol {protocol!r}")
    found: set[tuple[str, str, str]] = set()
    _walk(schema, found)
    for module, name, loader in sorted(found):
        if loader not in ALLOWED_LOADERS:
            raise InvalidInput(
                f"{what} uses the skops loader {loader!r} for {module}.{name}, which Steward does not allow"
            )
        if (module, name) not in ALLOWED_NODE_TYPES:
            raise InvalidInput(f"{what} contains the type {module}.{name}, which Steward does not allow")
    try:
        untrusted = sio.get_untrusted_types(data=data)
    except Exception as error:  # any parse failure of an untrusted file is a refusal
        raise InvalidInput(f"{what} is not a readable skops file ({type(error).__name__})") from None
    refused = sorted(set(untrusted) - set(ALLOWED_TYPES))
    if refused:
        raise InvalidInput(f"{what} contains types Steward does not trust: {', '.join(refused)}")
    return list(untrusted)


def _known_size(upload: BinaryIO) -> int | None:
    """The size of an open upload without reading it: ``.size`` (Streamlit) or seek to the end and back."""
    size = getattr(upload, "size", None)
    if isinstance(size, int) and not isinstance(size, bool):
        return size
    try:
        position = upload.tell()
        end = upload.seek(0, io.SEEK_END)
        upload.seek(position)
    except (OSError, AttributeError, ValueError):  # a pipe or socket: the size shows while reading
        return None
    return end - position


def read_upload(upload: Upload, *, max_bytes: int, what: str = "the uploaded file") -> bytes:
    """An upload's bytes, refused by size before they are read whenever the size can be known first.

    ``upload`` is bytes already in memory, a path (sized with ``stat``, so a
    2 GB file is refused without reading a byte of it), or an open binary
    file (sized with ``.size`` or ``seek``). At most ``max_bytes + 1`` bytes
    are ever read, so a file that grows after it was sized is still refused.
    """
    if isinstance(upload, bytes | bytearray | memoryview):
        check_size(len(upload), max_bytes, what)
        return bytes(upload)
    if isinstance(upload, Path):
        try:
            check_size(upload.stat().st_size, max_bytes, what)
            with upload.open("rb") as handle:
                data = handle.read(max_bytes + 1)
        except FileNotFoundError:
            raise InvalidInput(f"{what} does not exist") from None
        except IsADirectoryError:
            raise InvalidInput(f"{what} is a folder, not a file") from None
    else:
        size = _known_size(upload)
        if size is not None:
            check_size(size, max_bytes, what)
        data = upload.read(max_bytes + 1)
    check_size(len(data), max_bytes, what)
    return data


def _build(data: bytes, *, what: str, max_bytes: int) -> Pipeline:
    """Inspect the types, then build with the fixed trusted list; the result must be a Pipeline."""
    inspect_artifact(data, what=what, max_bytes=max_bytes)
    try:
        obj = sio.loads(data, trusted=list(ALLOWED_TYPES))
    except Exception as error:  # refuse, naming the artifact, whatever skops raised
        raise IntegrityError(f"{what} could not be loaded: {type(error).__name__}") from None
    if not isinstance(obj, Pipeline):
        raise IntegrityError(f"{what} holds a {type(obj).__name__}, not a scikit-learn Pipeline")
    return obj


def loads_pipeline(data: bytes, *, what: str = "artifact", max_bytes: int = DEFAULT_MAX_BYTES) -> Pipeline:
    """Inspect the types, build, check every array's structure and reset run-time parameters.

    Building a tree from bad arrays is harmless; predicting with one is not,
    so nothing is returned that :func:`check_structure` has not passed.
    """
    obj = _build(data, what=what, max_bytes=max_bytes)
    check_structure(obj, what=what)
    reset_runtime_params(obj)
    return obj


def trial_prediction(payload: bytes) -> bytes:
    """Child-process side of the first prediction (see :mod:`steward.core.pipelines.sandbox`).

    ``payload`` is an artifact and sample rows (:func:`trial_payload`). The
    model is built and its run-time parameters reset, but deliberately *not*
    structure-checked again: the parent did that, and this is the independent
    second line, meant to survive whatever the first missed.
    """
    size = int.from_bytes(payload[:8], "big")
    data, rows = payload[8 : 8 + size], json.loads(payload[8 + size :])
    model = _build(data, what="the uploaded artifact", max_bytes=len(data))
    reset_runtime_params(model)
    frame = pd.DataFrame(rows["data"], columns=rows["columns"])
    for column, kind in rows["dtypes"].items():
        if kind == "float":
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    predicted = model.predict(frame)
    return json.dumps({"rows": len(predicted)}).encode()


TRIAL_TARGET = "steward.core.adapters.artifacts:trial_prediction"
TRIAL_ROWS = 50


def first_prediction(data: bytes, sample: pd.DataFrame, *, what: str, limits: Limits | None = None) -> None:
    """Predict ``sample`` with the artifact in a limited child process; SandboxRefused if that fails.

    Run before an upload becomes a version, so a model that crashes or hangs
    the interpreter is refused instead of taking down whatever scores it.
    """
    run_isolated(TRIAL_TARGET, trial_payload(data, sample.head(TRIAL_ROWS)), what=what, limits=limits)


def trial_payload(data: bytes, sample: pd.DataFrame) -> bytes:
    """An artifact and sample rows for :func:`trial_prediction`, as plain bytes and JSON (no pickle)."""
    numeric = {c: "float" for c in sample.columns if pd.api.types.is_numeric_dtype(sample[c])}
    rows = {
        "columns": [str(c) for c in sample.columns],
        "data": json.loads(sample.to_json(orient="values", date_format="iso")),
        "dtypes": numeric,
    }
    return len(data).to_bytes(8, "big") + data + json.dumps(rows).encode()


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform/filesystem can open a directory
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class LocalArtifactStore:
    """Artifacts under ``root/<pipeline>/<version>.skops``; immutable once written.

    ``before_commit`` is called with the fully written, fsynced temporary file
    just before it gets its final name: tests use it to simulate a crash there.
    """

    def __init__(
        self,
        root: str | Path,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        before_commit: Callable[[Path], None] | None = None,
    ) -> None:
        self.root = Path(root).resolve()
        self.max_bytes = max_bytes
        self._before_commit = before_commit

    def path_for(self, uri: str) -> Path:
        """The file for ``uri``, refusing anything that is not ``<name>/<version>.skops`` under the root."""
        parts = PurePosixPath(uri).parts if isinstance(uri, str) else ()
        if len(parts) != 2 or not parts[1].endswith(ARTIFACT_SUFFIX) or "\\" in uri:
            raise InvalidInput(f"artifact uri {uri!r} is not '<pipeline>/<version>{ARTIFACT_SUFFIX}'")
        for part in parts:
            validate_name(part, "artifact uri segment")
            if part.startswith("."):
                raise InvalidInput(f"artifact uri {uri!r} must not have segments starting with '.'")
        path = (self.root / parts[0] / parts[1]).resolve()
        if not path.is_relative_to(self.root):
            raise InvalidInput(f"artifact uri {uri!r} leads outside the artifact store")
        return path

    # -- writing, in steps so a crash between them can be tested -------------------------------

    def serialise(self, pipeline: Pipeline) -> bytes:
        """skops bytes of ``pipeline``, refused if Steward could not load them back."""
        if not isinstance(pipeline, Pipeline):
            raise InvalidInput(f"only scikit-learn Pipelines are stored, not {type(pipeline).__name__}")
        data: bytes = sio.dumps(pipeline)
        inspect_artifact(data, what="the new artifact", max_bytes=self.max_bytes)
        return data

    def write_temporary(self, folder: Path, data: bytes) -> Path:
        """Write ``data`` to a new temporary file in ``folder`` and fsync it; the final name is untouched."""
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=ARTIFACT_SUFFIX, dir=folder)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
        return Path(name)

    def commit(self, temporary: Path, final: Path) -> None:
        """Give ``temporary`` its final name, never replacing an existing artifact; fsync the folder."""
        try:
            os.link(temporary, final)  # atomic, and fails if ``final`` exists
        except FileExistsError:
            temporary.unlink(missing_ok=True)
            raise AlreadyExists(
                f"artifact {final.parent.name}/{final.name} already exists; artifacts are immutable"
            ) from None
        except OSError:  # filesystems without hard links: check, then rename
            if final.exists():
                temporary.unlink(missing_ok=True)
                raise AlreadyExists(
                    f"artifact {final.parent.name}/{final.name} already exists; artifacts are immutable"
                ) from None
            temporary.replace(final)
        else:
            temporary.unlink()
        _fsync_dir(final.parent)

    def put(self, pipeline_name: str, version_label: str, pipeline: Pipeline) -> StoredArtifact:
        """Store ``pipeline`` as ``<pipeline_name>/<version_label>.skops``; AlreadyExists if present."""
        validate_name(pipeline_name, "pipeline name", max_length=64)
        validate_name(version_label, "version label", max_length=64)
        if pipeline_name.startswith(".") or version_label.startswith("."):
            raise InvalidInput("pipeline name and version label must not start with '.'")
        uri = f"{pipeline_name}/{version_label}{ARTIFACT_SUFFIX}"
        final = self.path_for(uri)
        if final.exists():
            raise AlreadyExists(f"artifact {uri} already exists; artifacts are immutable")
        data = self.serialise(pipeline)
        temporary = self.write_temporary(final.parent, data)
        try:
            if self._before_commit is not None:
                self._before_commit(temporary)
            self.commit(temporary, final)
        finally:
            temporary.unlink(missing_ok=True)
        return StoredArtifact(uri=uri, sha256=sha256_hex(data), size=len(data))

    # -- reading -----------------------------------------------------------------------------

    def read_verified(self, uri: str, expected_sha256: str, version_label: str) -> bytes:
        """The artifact's bytes, only if their SHA-256 is the registered one; else IntegrityError."""
        path = self.path_for(uri)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise IntegrityError(f"the artifact of version {version_label!r} is missing ({uri})") from None
        if size > self.max_bytes:
            raise IntegrityError(
                f"the artifact of version {version_label!r} is {size:,} bytes; "
                f"the limit is {self.max_bytes:,}"
            )
        data = path.read_bytes()
        if sha256_hex(data) != expected_sha256.lower():
            raise IntegrityError(
                f"the artifact of version {version_label!r} no longer matches its registered "
                f"SHA-256 ({uri}); refusing to load it"
            )
        return data

    def load(self, uri: str, expected_sha256: str, version_label: str) -> Pipeline:
        """Verify the digest, inspect the types, then load with the fixed trusted list."""
        data = self.read_verified(uri, expected_sha256, version_label)
        try:
            return loads_pipeline(
                data, what=f"the artifact of version {version_label!r}", max_bytes=self.max_bytes
            )
        except InvalidInput as refusal:  # a registered artifact that fails inspection is an integrity problem
            raise IntegrityError(refusal.message) from None

    def discard(self, uri: str) -> None:
        """Remove an artifact no version row refers to (e.g. the registry's insert failed after ``put``)."""
        path = self.path_for(uri)
        path.unlink(missing_ok=True)
        _fsync_dir(path.parent)

    def leftovers(self) -> Iterator[Path]:
        """Temporary files a crash left behind; never loadable (no final name), safe to delete."""
        if self.root.is_dir():
            yield from sorted(self.root.glob(f"*/{TEMP_PREFIX}*"))

    def sweep(self, *, older_than: timedelta = SAFE_TEMP_AGE, now: datetime | None = None) -> SweepResult:
        """Delete crash leftovers last modified at least ``older_than`` before ``now``.

        A temporary file is written, fsynced and linked to its final name within
        one call of :meth:`put`; one modified recently may be that call in
        progress, so it is kept. Finished artifacts never match (their names
        cannot start with '.'). Paths in the result are relative to the root.
        """
        if older_than < timedelta(0):
            raise InvalidInput("older_than must not be negative")
        cutoff = ((now or datetime.now(UTC)) - older_than).timestamp()
        removed: list[str] = []
        kept: list[str] = []
        for path in list(self.leftovers()):
            try:
                modified = path.stat().st_mtime
            except FileNotFoundError:  # another sweeper, or the writer finishing, took it
                continue
            name = path.relative_to(self.root).as_posix()
            if modified > cutoff:
                kept.append(name)
                continue
            path.unlink(missing_ok=True)
            removed.append(name)
        return SweepResult(tuple(removed), tuple(kept))
