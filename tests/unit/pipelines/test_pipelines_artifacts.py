"""The artifact store: skops only, atomic writes, SHA-256 pinned, hostile files refused without running."""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import joblib  # type: ignore[import-untyped]
import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from pipelines_testdata import REPO
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from steward.core.adapters.artifacts import (
    DEFAULT_MAX_BYTES,
    LocalArtifactStore,
    StoredArtifact,
    inspect_artifact,
    read_upload,
)
from steward.core.errors import AlreadyExists, IntegrityError, InvalidInput
from steward.core.pipelines.spec import PipelineSpec
from steward.core.pipelines.training import train


@pytest.fixture(scope="module")
def fitted() -> tuple[Pipeline, pd.DataFrame]:
    from pipelines_testdata import SMALL_SPEC, toy_frame

    from steward.core.pipelines.spec import parse_spec

    frame = toy_frame()
    return train(parse_spec(SMALL_SPEC), frame, importances=False).pipeline, frame


def check_upload(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    """What the registry does with an upload's bytes before loading anything."""
    inspect_artifact(data, what="the uploaded file", max_bytes=max_bytes)


def check_upload_file(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    """The same for a file on disk, read the way the registry reads one (refused by size first)."""
    check_upload(read_upload(path, max_bytes=max_bytes), max_bytes=max_bytes)


@pytest.fixture
def store(tmp_path: Path) -> LocalArtifactStore:
    return LocalArtifactStore(tmp_path / "artifacts")


class WritesMarker:
    """Unpickling this creates ``path``: proof that code ran."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.path), "w"))


def test_put_then_load_returns_an_equivalent_pipeline(
    store: LocalArtifactStore, fitted: tuple[Pipeline, pd.DataFrame]
) -> None:
    pipeline, frame = fitted
    stored = store.put("credit-default", "v1", pipeline)
    path = store.root / "credit-default" / "v1.skops"
    assert stored == StoredArtifact(
        "credit-default/v1.skops", hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_size
    )
    loaded = store.load(stored.uri, stored.sha256, "v1")
    coerced = frame.drop(columns=["y"])
    np.testing.assert_array_equal(loaded.predict_proba(coerced), pipeline.predict_proba(coerced))
    assert path.read_bytes().startswith(b"PK") and list(store.leftovers()) == []


def test_artifacts_are_immutable(store: LocalArtifactStore, fitted: tuple[Pipeline, pd.DataFrame]) -> None:
    first = store.put("p", "v1", fitted[0])
    with pytest.raises(AlreadyExists, match=r"p/v1.skops already exists"):
        store.put("p", "v1", fitted[0])
    assert hashlib.sha256((store.root / first.uri).read_bytes()).hexdigest() == first.sha256


def test_a_flipped_byte_is_detected_and_names_the_version(
    store: LocalArtifactStore, fitted: tuple[Pipeline, pd.DataFrame]
) -> None:
    stored = store.put("p", "v7", fitted[0])
    path = store.root / stored.uri
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(
        IntegrityError, match=r"artifact of version 'v7' no longer matches its registered SHA-256"
    ):
        store.load(stored.uri, stored.sha256, "v7")


def test_a_missing_artifact_names_the_version(store: LocalArtifactStore) -> None:
    with pytest.raises(IntegrityError, match="artifact of version 'v2' is missing"):
        store.load("p/v2.skops", "0" * 64, "v2")


@pytest.mark.parametrize(
    "uri", ["../x/v1.skops", "p/../../v1.skops", "/etc/v1.skops", "p/v1.pkl", "p/q/v1.skops", "p/.v1.skops"]
)
def test_uris_outside_the_layout_are_refused(store: LocalArtifactStore, uri: str) -> None:
    with pytest.raises(InvalidInput, match="artifact uri"):
        store.load(uri, "0" * 64, "v1")


@pytest.mark.parametrize(
    ("name", "label"), [("a/b", "v1"), ("p", "../v1"), ("<p>", "v1"), ("p", ".partial-x")]
)
def test_names_that_could_escape_or_collide_are_refused(
    store: LocalArtifactStore, fitted: tuple[Pipeline, pd.DataFrame], name: str, label: str
) -> None:
    with pytest.raises(InvalidInput):
        store.put(name, label, fitted[0])


def test_only_pipelines_are_stored(store: LocalArtifactStore) -> None:
    with pytest.raises(InvalidInput, match="only scikit-learn Pipelines are stored"):
        store.put("p", "v1", LogisticRegression())


# -- hostile files ---------------------------------------------------------------------------


def test_a_pickle_upload_is_refused_and_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = pickle.dumps(WritesMarker(marker))
    with pytest.raises(InvalidInput, match="is a Python pickle; only skops files are accepted"):
        check_upload(payload)
    assert not marker.exists()
    pickle.loads(payload)  # the control: this payload really does run code when unpickled
    assert marker.exists()


@pytest.mark.parametrize(
    ("compress", "kind"),
    [(0, "a Python pickle"), (3, "joblib"), (("gzip", 3), "gzip"), (("bz2", 3), "bz2"), (("xz", 3), "xz")],
)
def test_joblib_files_are_refused_and_never_run(tmp_path: Path, compress: object, kind: str) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "model.joblib"
    joblib.dump(WritesMarker(marker), path, compress=compress)
    with pytest.raises(InvalidInput, match=kind):
        check_upload_file(path)
    assert not marker.exists()


def test_a_pickle_placed_in_the_store_with_a_matching_digest_is_still_refused(
    store: LocalArtifactStore, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    payload = pickle.dumps(WritesMarker(marker))
    (store.root / "p").mkdir(parents=True)
    (store.root / "p" / "v1.skops").write_bytes(payload)
    with pytest.raises(IntegrityError, match="artifact of version 'v1' is a Python pickle"):
        store.load("p/v1.skops", hashlib.sha256(payload).hexdigest(), "v1")
    assert not marker.exists()


def _rewrite_schema(data: bytes, change: object) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    schema = json.loads(source.read("schema.json"))
    change(schema)  # type: ignore[operator]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = json.dumps(schema).encode() if info.filename == "schema.json" else source.read(info)
            target.writestr(info.filename, content)
    return out.getvalue()


def _retarget(schema: dict[str, Any], module: str, name: str, loader: str | None = None) -> None:
    schema["__module__"], schema["__class__"] = module, name
    if loader:
        schema["__loader__"] = loader


def _smuggle_a_function(schema: dict[str, Any]) -> None:
    """A FunctionTransformer whose ``func`` is ``os.system``: allowed class, forbidden content."""
    _retarget(schema, "sklearn.preprocessing._function_transformer", "FunctionTransformer")
    schema["content"]["content"]["func"] = {
        "__class__": "system",
        "__module__": "os",
        "__loader__": "FunctionNode",
        "content": {"module_path": "os", "function": "system"},
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: _retarget(s, "subprocess", "Popen"), "contains the type subprocess.Popen"),
        (lambda s: _retarget(s, "os", "system", "FunctionNode"), "skops loader 'FunctionNode'"),
        (lambda s: _retarget(s, "builtins", "eval", "MethodNode"), "skops loader 'MethodNode'"),
        (_smuggle_a_function, "skops loader 'FunctionNode'"),
        (lambda s: s.update({"protocol": 0}), "unsupported skops protocol 0"),
    ],
)
def test_a_crafted_skops_file_naming_a_type_outside_the_allow_list_is_refused(
    store: LocalArtifactStore, fitted: tuple[Pipeline, pd.DataFrame], change: object, message: str
) -> None:
    crafted = _rewrite_schema(sio.dumps(fitted[0]), change)
    with pytest.raises(InvalidInput, match=message):
        check_upload(crafted)
    (store.root / "p").mkdir(parents=True, exist_ok=True)
    (store.root / "p" / "v1.skops").write_bytes(crafted)
    with pytest.raises(IntegrityError, match="artifact of version 'v1'"):
        store.load("p/v1.skops", hashlib.sha256(crafted).hexdigest(), "v1")


def _json_node(value: object) -> dict[str, object]:
    return {
        "__class__": "str",
        "__module__": "builtins",
        "__loader__": "JsonNode",
        "content": json.dumps(value),
        "is_json": True,
    }


def _skops_that_opens(marker: Path, fitted: Pipeline) -> bytes:
    """A real pipeline whose ``memory`` is ``open(marker, "w")``: skops runs that call if told to trust it."""

    def plant(schema: dict[str, Any]) -> None:
        schema["content"]["content"]["memory"] = {
            "__class__": "open",
            "__module__": "builtins",
            "__loader__": "ConstructorFromReduceNode",
            "content": {
                "__class__": "tuple",
                "__module__": "builtins",
                "__loader__": "TupleNode",
                "content": [_json_node(str(marker)), _json_node("w")],
            },
        }

    return _rewrite_schema(sio.dumps(fitted), plant)


def test_a_skops_file_that_would_run_code_is_refused_and_never_runs(
    store: LocalArtifactStore, tmp_path: Path, fitted: tuple[Pipeline, pd.DataFrame]
) -> None:
    marker = tmp_path / "pwned"
    crafted = _skops_that_opens(marker, fitted[0])
    with pytest.raises(InvalidInput, match="ConstructorFromReduceNode"):
        check_upload(crafted)
    (store.root / "p").mkdir(parents=True)
    (store.root / "p" / "v1.skops").write_bytes(crafted)
    with pytest.raises(IntegrityError, match="artifact of version 'v1'"):
        store.load("p/v1.skops", hashlib.sha256(crafted).hexdigest(), "v1")
    assert not marker.exists()
    # The control, and the reason the trusted list comes from code: trusting what the file declares runs it.
    sio.loads(crafted, trusted=sio.get_untrusted_types(data=crafted))
    assert marker.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty"),
        (b"hello, I am a model", "not a skops file"),
        (b"PK\x03\x04 truncated zip", "damaged zip file"),
    ],
)
def test_other_non_skops_uploads_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        check_upload(data)


def test_a_zip_without_schema_json_is_not_a_skops_file() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("model.pkl", b"\x80\x05")
    with pytest.raises(InvalidInput, match=r"zip file without schema.json"):
        check_upload(out.getvalue())


def test_a_zip_bomb_is_refused_before_unpacking() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("schema.json", b"{}")
        archive.writestr("big.npy", b"\x00" * 50_000_000)
    with pytest.raises(InvalidInput, match="zip bomb"):
        check_upload(out.getvalue(), max_bytes=1_000_000)


def test_an_oversized_upload_is_refused_by_size_before_reading(tmp_path: Path) -> None:
    huge = tmp_path / "huge.skops"
    with huge.open("wb") as handle:  # sparse: 2 GB on paper, nothing on disk
        handle.truncate(2_000_000_000)
    with pytest.raises(
        InvalidInput,
        match=r"is 2,000,000,000 bytes \(2.0 GB\); the limit is 500,000,000 bytes \(500.0 MB\)",
    ):
        check_upload_file(huge)


class NeverRead(io.BytesIO):
    """An open upload that announces its size (as Streamlit's do) and fails the test if read."""

    def __init__(self, size: int) -> None:
        super().__init__(b"")
        self.size = size

    def read(self, *_args: Any) -> bytes:
        raise AssertionError("read before its size was checked")


class Unsized(io.RawIOBase):
    """A stream that cannot say its size (a pipe): it is read only up to the limit plus one byte."""

    def __init__(self, total: int) -> None:
        self.left, self.asked = total, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        raise OSError("not seekable")

    def read(self, size: int = -1) -> bytes:
        self.asked += size
        chunk = min(self.left, size if size >= 0 else self.left)
        self.left -= chunk
        return b"P" * chunk


@pytest.mark.parametrize(
    ("limit", "stated"),
    [(1, "1 byte"), (1000, r"1,000 bytes \(1.0 kB\)"), (1024**3, r"1,073,741,824 bytes \(1.1 GB\)")],
)
def test_the_limit_is_stated_exactly_never_rounded_to_nothing(limit: int, stated: str) -> None:
    with pytest.raises(InvalidInput, match=f"the limit is {stated}$"):
        read_upload(b"x" * (limit + 1), max_bytes=limit, what="big.skops")


def test_an_open_upload_is_refused_by_its_announced_size_without_being_read() -> None:
    with pytest.raises(InvalidInput, match=r"model.skops is 2,000,000,000 bytes"):
        read_upload(NeverRead(2_000_000_000), max_bytes=1000, what="model.skops")  # type: ignore[arg-type]


def test_an_open_file_is_sized_by_seeking_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.skops"
    path.write_bytes(b"PK" + b"\0" * 5000)
    with path.open("rb") as handle:
        with pytest.raises(InvalidInput, match=r"is 5,002 bytes \(5.0 kB\); the limit is 1,000 bytes"):
            read_upload(handle, max_bytes=1000)
        assert handle.tell() == 0  # sized, not read
        assert read_upload(handle, max_bytes=10_000) == path.read_bytes()


def test_a_stream_of_unknown_size_is_read_only_up_to_the_limit() -> None:
    stream = Unsized(10_000_000)
    with pytest.raises(InvalidInput, match=r"the limit is 1,000 bytes"):
        read_upload(stream, max_bytes=1000)  # type: ignore[arg-type]
    assert stream.asked == 1001


def test_a_genuine_skops_pipeline_upload_is_accepted(fitted: tuple[Pipeline, pd.DataFrame]) -> None:
    check_upload(sio.dumps(fitted[0]))


# -- crashes ---------------------------------------------------------------------------------


CRASH_SCRIPT = """
import os, sys
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from steward.core.adapters.artifacts import LocalArtifactStore

pipeline = Pipeline([("model", LogisticRegression())])
store = LocalArtifactStore({root!r}, before_commit=lambda temporary: os._exit(17))
store.put("p", "v1", pipeline)
print("not reached")
"""


def test_a_crash_between_write_and_rename_leaves_no_artifact(
    store: LocalArtifactStore, fitted: tuple[Pipeline, pd.DataFrame]
) -> None:
    script = CRASH_SCRIPT.format(root=str(store.root))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 17, done.stderr
    assert "not reached" not in done.stdout
    assert not (store.root / "p" / "v1.skops").exists()
    leftovers = list(store.leftovers())
    assert len(leftovers) == 1 and leftovers[0].stat().st_size > 0  # the whole temporary file, fsynced
    with pytest.raises(InvalidInput, match="artifact uri"):
        store.load("p/" + leftovers[0].name, "0" * 64, "v1")  # never addressable as an artifact
    stored = store.put("p", "v1", fitted[0])  # the retry is not blocked by the leftover
    assert store.load(stored.uri, stored.sha256, "v1") is not None
    assert store.sweep().removed == ()  # just written: it could be a write in progress
    swept = store.sweep(older_than=timedelta(0), now=datetime.now(UTC) + timedelta(seconds=1))
    assert swept.removed == (f"p/{leftovers[0].name}",) and list(store.leftovers()) == []
    assert (store.root / stored.uri).exists()


def test_a_failure_before_commit_cleans_up_after_itself(
    tmp_path: Path, fitted: tuple[Pipeline, pd.DataFrame]
) -> None:
    def fail(temporary: Path) -> None:
        assert temporary.exists() and temporary.name.startswith(".partial-")
        raise OSError("disk full")

    store = LocalArtifactStore(tmp_path, before_commit=fail)
    with pytest.raises(OSError, match="disk full"):
        store.put("p", "v1", fitted[0])
    assert not (tmp_path / "p" / "v1.skops").exists() and list(store.leftovers()) == []


def test_discard_removes_an_artifact_no_row_refers_to(
    store: LocalArtifactStore, fitted: tuple[Pipeline, pd.DataFrame]
) -> None:
    stored = store.put("p", "v1", fitted[0])
    store.discard(stored.uri)
    assert not (store.root / stored.uri).exists()
    store.put("p", "v1", fitted[0])


def test_every_demo_estimator_survives_the_round_trip(tmp_path: Path, credit_sample: pd.DataFrame) -> None:
    from pipelines_testdata import SPECS

    from steward.core.pipelines.spec import parse_spec

    store = LocalArtifactStore(tmp_path)
    spec: PipelineSpec = parse_spec(
        (SPECS / "credit_default_v2.toml").read_text().replace("max_iter = 300", "max_iter = 20")
    )
    result = train(spec, credit_sample, importances=False)
    stored = store.put(spec.name, "v2", result.pipeline)
    loaded = store.load(stored.uri, stored.sha256, "v2")
    features = spec.schema.coerce(credit_sample)
    np.testing.assert_array_equal(loaded.predict_proba(features), result.pipeline.predict_proba(features))


def test_sweep_removes_old_temporary_files_keeps_fresh_ones_and_never_touches_artifacts(
    store: LocalArtifactStore, fitted: tuple[Pipeline, pd.DataFrame]
) -> None:
    stored = store.put("p", "v1", fitted[0])
    artifact = store.root / stored.uri
    folder = artifact.parent
    now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    old, fresh = folder / ".partial-old.skops", folder / ".partial-fresh.skops"
    for path, age in (
        (old, timedelta(hours=2)),
        (fresh, timedelta(minutes=5)),
        (artifact, timedelta(days=9)),
    ):
        if not path.exists():
            path.write_bytes(b"half a write")
        stamp = (now - age).timestamp()
        os.utime(path, (stamp, stamp))
    swept = store.sweep(now=now)
    assert swept.removed == ("p/.partial-old.skops",) and swept.kept == ("p/.partial-fresh.skops",)
    assert not old.exists() and fresh.exists()
    assert hashlib.sha256(artifact.read_bytes()).hexdigest() == stored.sha256
    assert store.sweep(now=now + timedelta(hours=1)).removed == ("p/.partial-fresh.skops",)
    assert store.load(stored.uri, stored.sha256, "v1") is not None
    with pytest.raises(InvalidInput, match="must not be negative"):
        store.sweep(older_than=timedelta(seconds=-1))
