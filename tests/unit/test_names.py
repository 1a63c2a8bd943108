"""Names people type are refused at the door when they carry markup or invisible characters."""

import pytest

from steward.core.domain.names import validate_comment, validate_label, validate_username
from steward.core.errors import InvalidInput


@pytest.mark.parametrize(
    ("value", "expected"), [("Alice", "alice"), ("  bob.smith ", "bob.smith"), ("ops-1@bank", "ops-1@bank")]
)
def test_valid_user_names_are_normalised(value, expected):
    assert validate_username(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "empty"),
        ("<img src=x onerror=alert(1)>", "markup character '<'"),
        ("eve\u202egnp", "RIGHT-TO-LEFT OVERRIDE"),
        ("tab\there", "control"),
        ("a/b", "must be 2-64 characters"),
        ("../etc", "must be 2-64 characters"),
        ("x" * 65, "longer than 64"),
        ("a", "must be 2-64 characters"),
        ("[x](javascript:alert(1))", "must be 2-64 characters"),
    ],
)
def test_bad_user_names_are_refused_with_the_reason(value, message):
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        validate_username(value)


def test_labels_allow_text_but_not_invisible_characters():
    assert validate_label("Risk team <EMEA>", "group") == "Risk team <EMEA>"
    with pytest.raises(InvalidInput, match="group contains a control or invisible character"):
        validate_label("risk\u200bteam", "group")
    with pytest.raises(InvalidInput, match="longer than 200"):
        validate_label("x" * 201, "group")


def test_comments_keep_newlines_but_refuse_bidi_overrides():
    assert validate_comment("line one\nline two") == "line one\nline two"
    with pytest.raises(InvalidInput, match="RIGHT-TO-LEFT OVERRIDE"):
        validate_comment("approve \u202eevil")
