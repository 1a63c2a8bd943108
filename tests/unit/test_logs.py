"""One log format for every process: JSON lines a collector parses, or text a person reads."""

import json
import logging

import pytest

from steward.app.logs import configure_logging
from steward.core.errors import ConfigurationError


@pytest.fixture
def root_logger():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def emit(capsys, logger_name, *args, **kwargs):
    logging.getLogger(logger_name).warning(*args, **kwargs)
    return capsys.readouterr().err.strip().splitlines()


def test_json_lines_carry_level_logger_process_and_extra_fields(root_logger, monkeypatch, capsys):
    monkeypatch.setenv("STEWARD_LOG_FORMAT", "json")
    monkeypatch.setenv("STEWARD_LOG_LEVEL", "info")
    configure_logging("worker")
    configure_logging("worker")  # again, as a Streamlit rerun would: still one line per record
    lines = emit(capsys, "steward.core.test", "notifier %s failed", "slack", extra={"channel_id": 7})
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["level"] == "WARNING" and entry["logger"] == "steward.core.test"
    assert entry["process"] == "worker" and entry["message"] == "notifier slack failed"
    assert entry["channel_id"] == 7 and entry["ts"].endswith("+00:00")


def test_json_keeps_the_traceback_as_text(root_logger, monkeypatch, capsys):
    monkeypatch.setenv("STEWARD_LOG_FORMAT", "json")
    configure_logging("app")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("steward.x").exception("job failed")
    entry = json.loads(capsys.readouterr().err.strip().splitlines()[0])
    assert entry["message"] == "job failed" and "RuntimeError: boom" in entry["exc_info"]


def test_text_is_one_readable_line_and_the_level_filters(root_logger, monkeypatch, capsys):
    monkeypatch.delenv("STEWARD_LOG_FORMAT", raising=False)
    monkeypatch.setenv("STEWARD_LOG_LEVEL", "ERROR")
    configure_logging("cli")
    assert emit(capsys, "steward.y", "quiet") == []
    logging.getLogger("steward.y").error("loud %d", 1, extra={"run_id": 3})
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.endswith(" cli ERROR steward.y: loud 1 run_id=3")


@pytest.mark.parametrize(("key", "value"), [("STEWARD_LOG_LEVEL", "LOUD"), ("STEWARD_LOG_FORMAT", "xml")])
def test_an_unknown_setting_is_a_configuration_error(root_logger, monkeypatch, key, value):
    monkeypatch.setenv(key, value)
    with pytest.raises(ConfigurationError, match=key):
        configure_logging("cli")
