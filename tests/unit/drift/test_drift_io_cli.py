"""Reading files in chunks, and ``steward drift`` on files: output, exit codes, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from steward.app.cli.drift import drift_command
from steward.core.drift.io import open_table, read_profile
from steward.core.errors import InvalidInput


def frame(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "a": rng.normal(shift, 1, n),
            "b": rng.integers(0, 1000, n),
            "c": rng.choice(["x", "y", "z"], n),
        }
    )


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    out = {}
    frame(3000, 0).to_csv(tmp_path / "ref.csv", index=False)
    frame(3000, 0).to_parquet(tmp_path / "ref.parquet", index=False)
    frame(2500, 1).to_csv(tmp_path / "same.csv", index=False)
    frame(2500, 2, shift=0.6).to_parquet(tmp_path / "shifted.parquet", index=False)
    for name in ("ref.csv", "ref.parquet", "same.csv", "shifted.parquet"):
        out[name] = tmp_path / name
    return out


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(drift_command, list(args))
    return result.exit_code, result.stdout, result.stderr


# ----------------------------------------------------------------------- io


def test_chunks_cover_the_file(files):
    for name in ("ref.csv", "ref.parquet"):
        source = open_table(files[name])
        chunks = list(source.iter_chunks(chunk_rows=700))
        assert [len(c) for c in chunks] == [700, 700, 700, 700, 200]
        assert source.columns() == ["a", "b", "c"]
    assert open_table(files["ref.parquet"]).rows() == 3000


def test_unreadable_files_are_invalid_input(tmp_path, files):
    with pytest.raises(InvalidInput, match="file not found"):
        open_table(tmp_path / "nope.csv")
    with pytest.raises(InvalidInput, match="unsupported file type"):
        open_table(files["ref.csv"].rename(tmp_path / "ref.xlsx"))
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InvalidInput, match="empty"):
        list(open_table(tmp_path / "empty.csv").iter_chunks())
    data = files["ref.parquet"].read_bytes()
    (tmp_path / "cut.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidInput, match="cannot read Parquet file"):
        list(open_table(tmp_path / "cut.parquet").iter_chunks())
    (tmp_path / "fake.parquet").write_text("a,b\n1,2\n")
    with pytest.raises(InvalidInput, match="cannot read Parquet file"):
        open_table(tmp_path / "fake.parquet")


# ---------------------------------------------------------------------- CLI


def test_text_report_without_drift(files):
    code, out, err = run("--reference", str(files["ref.csv"]), "--current", str(files["same.csv"]))
    assert code == 0 and err == ""
    assert "Verdict: NO DRIFT" in out
    assert "column" in out and "wasserstein" in out


def test_json_report_lists_every_column(files):
    code, out, _ = run(
        "--reference",
        str(files["ref.parquet"]),
        "--current",
        str(files["shifted.parquet"]),
        "--format",
        "json",
    )
    assert code == 0
    payload = json.loads(out)
    assert payload["verdict"]["status"] == "drift" and payload["verdict"]["reason"]
    by_name = {c["name"]: c for c in payload["columns"]}
    assert set(by_name) == {"a", "b", "c"}
    for col in by_name.values():
        assert {"name", "kind", "test", "statistic", "threshold", "p_value", "drift"} <= set(col)
    assert by_name["a"]["drift"] is True and by_name["b"]["drift"] is False


def test_calibrated_mode_and_fail_on_drift(files):
    args = ["--reference", str(files["ref.csv"]), "--current", str(files["shifted.parquet"])]
    code, out, _ = run(*args, "--mode", "calibrated", "--format", "json", "--replicates", "199")
    assert code == 0 and json.loads(out)["false_alarm_rate"] == 0.05
    code, _, _ = run(*args, "--fail-on-drift")
    assert code == 1
    code, _, _ = run(
        "--reference", str(files["ref.csv"]), "--current", str(files["same.csv"]), "--fail-on-drift"
    )
    assert code == 0


def test_chunked_current_matches_in_memory(files):
    args = [
        "--reference",
        str(files["ref.csv"]),
        "--current",
        str(files["shifted.parquet"]),
        "--format",
        "json",
    ]
    whole = json.loads(run(*args)[1])
    chunked = json.loads(run(*args, "--chunk-rows", "600")[1])
    for a, b in zip(whole["columns"], chunked["columns"], strict=True):
        assert a["statistic"] == pytest.approx(b["statistic"], rel=1e-9)
        assert a["drift"] == b["drift"]


def test_saved_profile_replaces_the_training_file(tmp_path, files):
    saved = tmp_path / "ref.profile"
    args = ["--current", str(files["shifted.parquet"]), "--format", "json"]
    first = json.loads(run("--reference", str(files["ref.csv"]), "--save-profile", str(saved), *args)[1])
    assert read_profile(saved).rows == 3000
    second = json.loads(run("--reference", str(saved), *args)[1])
    assert first["columns"] == second["columns"]


def test_options_select_columns_tests_and_thresholds(files):
    code, out, _ = run(
        "--reference", str(files["ref.csv"]), "--current", str(files["shifted.parquet"]),
        "--columns", "a,b", "--test", "psi", "--threshold", "psi=0.5", "--format", "json",
    )  # fmt: skip
    assert code == 0
    payload = json.loads(out)
    assert [c["name"] for c in payload["columns"]] == ["a", "b"]
    assert {c["test"] for c in payload["columns"]} == {"psi"}
    assert {c["threshold"] for c in payload["columns"]} == {0.5}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--current", "same.csv", "--reference", "missing.csv"], "file not found"),
        (["--current", "cut.parquet", "--reference", "ref.csv"], "cannot read Parquet file"),
        (["--current", "same.csv", "--reference", "ref.csv", "--threshold", "psi"], "TEST=VALUE"),
        (["--current", "same.csv", "--reference", "ref.csv", "--columns", "zzz"], "not in the reference"),
        (["--current", "same.csv", "--reference", "ref.csv", "--fdr", "3"], "fdr"),
        (["--current", "same.csv", "--reference", "ref.csv", "--kind", "a=text"], "--kind"),
        (["--current", "empty.csv", "--reference", "ref.csv"], "empty"),
        (["--current", "same.csv", "--reference", "garbage.profile"], "not a Steward drift profile"),
    ],
)
def test_bad_input_prints_one_line_and_exits_2(tmp_path, files, args, message):
    data = files["ref.parquet"].read_bytes()
    (tmp_path / "cut.parquet").write_bytes(data[: len(data) // 3])
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "garbage.profile").write_bytes(b"\x00" * 40)
    resolved = [str(tmp_path / a) if a.endswith((".csv", ".parquet", ".profile")) else a for a in args]
    code, out, err = run(*resolved)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert "Traceback" not in err


def test_empty_current_file_with_header_is_a_verdict_not_an_error(tmp_path, files):
    (tmp_path / "header.csv").write_text("a,b,c\n")
    code, out, _ = run("--reference", str(files["ref.csv"]), "--current", str(tmp_path / "header.csv"))
    assert code == 0 and "INSUFFICIENT" in out and "no rows" in out


def test_exclude_and_prediction_columns(files):
    code, out, _ = run(
        "--reference", str(files["ref.csv"]), "--current", str(files["shifted.parquet"]),
        "--exclude", "b", "--prediction", "c", "--format", "json",
    )  # fmt: skip
    assert code == 0
    payload = json.loads(out)
    assert [c["name"] for c in payload["columns"]] == ["a", "c"]
    assert {c["name"]: c["role"] for c in payload["columns"]} == {"a": "feature", "c": "prediction"}
    assert payload["prediction_verdict"]["status"] == "no_drift"
    assert not [q for q in payload["quality"] if q["check"] == "extra_column"]  # excluded, not unexpected
