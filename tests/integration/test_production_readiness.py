"""Production mode refuses to start with a weak login-cookie secret in the folder Streamlit starts from."""

import shutil

import pytest

from steward.core.config import OWASP_SCRYPT_N
from steward.core.errors import ConfigurationError
from steward.core.setup.readiness import check_ready_to_serve
from steward.core.steward import Steward
from testkit import make_settings


@pytest.fixture
def production(tmp_path, sqlite_template):
    """A production-mode Steward that is otherwise fit to serve (no demo accounts, strong settings)."""
    target = tmp_path / "steward.db"
    shutil.copyfile(sqlite_template, target)
    settings = make_settings(tmp_path, f"sqlite:///{target}", production=True, scrypt_n=OWASP_SCRYPT_N)
    steward = Steward(settings)
    yield steward
    steward.close()


def write_secrets(folder, text):
    (folder / ".streamlit").mkdir(parents=True)
    (folder / ".streamlit" / "secrets.toml").write_text(text, encoding="utf-8")
    return folder


def test_fit_settings_without_sso_start(production, tmp_path):
    check_ready_to_serve(production, tmp_path)


def test_placeholder_cookie_secret_refuses_with_one_line(production, tmp_path):
    start = write_secrets(tmp_path / "start", '[auth]\ncookie_secret = "REPLACE-WITH-A-LONG-RANDOM-STRING"\n')
    with pytest.raises(ConfigurationError) as refused:
        check_ready_to_serve(production, start)
    message = str(refused.value)
    assert message.startswith("production mode refused: ") and "\n" not in message
    assert "cookie_secret is still the placeholder" in message


def test_the_current_folder_is_where_streamlit_reads_its_secrets(production, tmp_path, monkeypatch):
    monkeypatch.chdir(write_secrets(tmp_path / "start", '[auth]\nclient_id = "steward"\n'))
    with pytest.raises(ConfigurationError, match="cookie_secret is missing"):
        check_ready_to_serve(production)


def test_outside_production_the_secret_is_not_checked(tmp_path, sqlite_template):
    target = tmp_path / "steward.db"
    shutil.copyfile(sqlite_template, target)
    steward = Steward(make_settings(tmp_path, f"sqlite:///{target}"))
    check_ready_to_serve(steward, write_secrets(tmp_path / "start", '[auth]\ncookie_secret = ""\n'))
    steward.close()
