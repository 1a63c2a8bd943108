"""Production refuses a login-cookie signing key anyone could know or guess (`.streamlit/secrets.toml`)."""

import tomllib

import pytest

from steward.core.config import COOKIE_SECRET_PLACEHOLDER, streamlit_secrets_problems
from testkit import REPO_ROOT

GOOD = "k" * 48


def write(folder, text, example=None):
    (folder / ".streamlit").mkdir(exist_ok=True)
    (folder / ".streamlit" / "secrets.toml").write_text(text, encoding="utf-8")
    if example is not None:
        (folder / ".streamlit" / "secrets.toml.example").write_text(example, encoding="utf-8")
    return folder


def test_the_placeholder_is_the_one_the_example_file_ships():
    example = tomllib.loads((REPO_ROOT / ".streamlit" / "secrets.toml.example").read_text(encoding="utf-8"))
    assert example["auth"]["cookie_secret"] == COOKIE_SECRET_PLACEHOLDER


def test_no_secrets_file_or_no_auth_section_means_no_sso_and_nothing_to_refuse(tmp_path):
    assert streamlit_secrets_problems(tmp_path) == []
    assert streamlit_secrets_problems(write(tmp_path, 'other = "x"\n')) == []


@pytest.mark.parametrize(
    ("auth", "named"),
    [
        ('redirect_uri = "https://s.example/oauth2callback"', "cookie_secret is missing"),
        ('cookie_secret = ""', "cookie_secret is empty"),
        ('cookie_secret = "   "', "cookie_secret is empty"),
        ("cookie_secret = 12345", "cookie_secret is empty"),
        ('cookie_secret = "short-but-not-empty"', "shorter than 32 characters"),
        (f'cookie_secret = "{COOKIE_SECRET_PLACEHOLDER}"', "placeholder from secrets.toml.example"),
    ],
)
def test_a_weak_cookie_secret_is_one_line_naming_the_problem(tmp_path, auth, named):
    problems = streamlit_secrets_problems(write(tmp_path, f"[auth]\n{auth}\n"))
    assert len(problems) == 1 and named in problems[0] and "\n" not in problems[0]
    assert ".streamlit/secrets.toml [auth] cookie_secret" in problems[0]


def test_the_placeholder_of_a_local_example_file_is_refused_too(tmp_path):
    placeholder = "CHANGE-ME-THIS-IS-OUR-OWN-PLACEHOLDER-1234567890"
    folder = write(
        tmp_path, f'[auth]\ncookie_secret = "{placeholder}"\n', f'[auth]\ncookie_secret = "{placeholder}"\n'
    )
    [problem] = streamlit_secrets_problems(folder)
    assert "placeholder" in problem


def test_a_long_random_secret_passes_and_is_never_echoed(tmp_path):
    assert streamlit_secrets_problems(write(tmp_path, f'[auth]\ncookie_secret = "{GOOD}"\n')) == []
    [problem] = streamlit_secrets_problems(write(tmp_path, '[auth]\ncookie_secret = "hunter2-secret"\n'))
    assert "hunter2" not in problem


def test_a_broken_secrets_file_is_refused_in_one_line(tmp_path):
    [problem] = streamlit_secrets_problems(write(tmp_path, "[auth\ncookie_secret = \n"))
    assert "not valid TOML" in problem and "\n" not in problem
