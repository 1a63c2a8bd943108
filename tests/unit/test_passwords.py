"""scrypt hashing at OWASP's parameters, with the parameters carried in each hash."""

import pytest

from steward.core.config import OWASP_SCRYPT_N, Settings
from steward.core.domain.passwords import (
    OWASP_N,
    ScryptParams,
    check_password_strength,
    hash_password,
    needs_rehash,
    parse_params,
    verify_password,
)
from steward.core.errors import InvalidInput

FAST = ScryptParams(n=2**10)


def test_default_parameters_are_owasps():
    assert (OWASP_N, ScryptParams().r, ScryptParams().p) == (2**17, 8, 1)
    assert Settings().scrypt_n == OWASP_SCRYPT_N == 2**17


@pytest.mark.slow
def test_a_default_hash_records_owasp_parameters():
    stored = hash_password("correct horse battery staple")
    assert stored.startswith("scrypt$131072$8$1$")
    assert verify_password("correct horse battery staple", stored)


def test_verify_accepts_the_password_and_nothing_else():
    stored = hash_password("correct horse battery staple", FAST)
    assert verify_password("correct horse battery staple", stored)
    assert not verify_password("correct horse battery stapl", stored)
    assert not verify_password("", stored)


def test_same_password_gets_different_salts():
    assert hash_password("same password here", FAST) != hash_password("same password here", FAST)


@pytest.mark.parametrize(
    "stored", ["", "plain", "md5$abc", "scrypt$x$8$1$AAAA$BBBB", "scrypt$1024$8$1$!!$!!"]
)
def test_malformed_hashes_verify_nothing(stored):
    assert not verify_password("anything", stored)


def test_weaker_hashes_are_flagged_for_rehash():
    weak = hash_password("some password!", FAST)
    assert parse_params(weak) == FAST
    assert needs_rehash(weak, ScryptParams())
    assert not needs_rehash(weak, FAST)


def test_strength_rules():
    with pytest.raises(InvalidInput, match="at least 12"):
        check_password_strength("short")
    with pytest.raises(InvalidInput, match="at most 1024"):
        check_password_strength("x" * 1025)
    check_password_strength("twelve chars")
