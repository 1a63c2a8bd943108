"""Names end up in paths, pages and logs: the validator refuses what could escape or mislead."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from steward.core.errors import InvalidInput
from steward.core.pipelines.names import MAX_NAME_LENGTH, validate_name


@pytest.mark.parametrize(
    "value",
    [
        "credit-default",
        "bike demand 2011",
        "default.payment.next.month",
        "PAY_0",
        "Kredit-Ausfall",
        "信用违约",
    ],
)
def test_ordinary_names_pass_unchanged(value: str) -> None:
    assert validate_name(value) == value


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("../etc", "path separators"),
        ("a/b", "path separators"),
        ("a\\b", "path separators"),
        ("<script>alert(1)</script>", "markup"),
        ('say "hi"', "markup"),
        ("tab\there", "control"),
        ("nul\x00byte", "control"),
        ("evil\u202etxt.exe", "U+202E"),
        ("zero\u200bwidth", "U+200B"),
        ("isolate\u2066x", "U+2066"),
        ("", "empty"),
        (" padded", "whitespace"),
        ("..", "must not be"),
        ("x" * (MAX_NAME_LENGTH + 1), f"limit is {MAX_NAME_LENGTH}"),
    ],
)
def test_hostile_names_are_refused_with_the_reason(value: str, fragment: str) -> None:
    with pytest.raises(InvalidInput, match="pipeline name") as caught:
        validate_name(value)
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_message_names_the_field() -> None:
    with pytest.raises(InvalidInput, match=r"^column name must not contain path separators"):
        validate_name("a/b", "column name")


def test_non_text_is_refused() -> None:
    with pytest.raises(InvalidInput, match="must be text"):
        validate_name(42)


@given(st.text(min_size=1, max_size=40).map(lambda s: s + "/"))
def test_no_name_with_a_slash_ever_passes(value: str) -> None:
    with pytest.raises(InvalidInput):
        validate_name(value)
