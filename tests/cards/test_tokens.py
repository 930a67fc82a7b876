from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cards.qr import QUIET_ZONE, qr_matrix
from cards.tokens import (
    MAX_TTL_SECONDS,
    TOKEN_LENGTH,
    issue_qr_token,
    read_qr_token,
    verify_qr_token,
)
from core.db import MAX_INTEGER
from core.errors import TokenExpired, TokenInvalid

SECRET = "test-secret-key-with-enough-characters"
NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def test_a_token_round_trips_to_its_claims() -> None:
    issued = issue_qr_token(SECRET, member_id=4242, now=NOW, ttl_seconds=300)

    claims = verify_qr_token(SECRET, issued.token, now=NOW + timedelta(seconds=299))

    assert claims == issued.claims
    assert claims.member_id == 4242
    assert claims.issued_at == NOW
    assert claims.expires_at == NOW + timedelta(seconds=300) == issued.expires_at


def test_tokens_are_compact_enough_for_a_version_3_qr_code() -> None:
    token = issue_qr_token(
        SECRET, member_id=MAX_INTEGER, now=NOW, ttl_seconds=MAX_TTL_SECONDS
    ).token

    assert len(token) == TOKEN_LENGTH == 42
    assert len(qr_matrix(token)) == 29 + 2 * QUIET_ZONE  # version 3: 29 modules a side


def test_every_token_has_its_own_nonce() -> None:
    nonces = {
        issue_qr_token(SECRET, member_id=7, now=NOW, ttl_seconds=60).claims.nonce
        for _ in range(200)
    }

    assert len(nonces) == 200


def test_changing_any_single_character_makes_the_token_invalid() -> None:
    token = issue_qr_token(SECRET, member_id=99, now=NOW, ttl_seconds=300).token
    refused = 0
    for position, original in enumerate(token):
        for replacement in BASE64URL:
            if replacement == original:
                continue
            altered = token[:position] + replacement + token[position + 1 :]
            with pytest.raises(TokenInvalid):
                verify_qr_token(SECRET, altered, now=NOW)
            refused += 1

    assert refused == len(token) * (len(BASE64URL) - 1)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-1],
        lambda token: token + "A",
        lambda token: token[1:],
        lambda token: "P2" + token[2:],
        lambda token: token[:10] + "é" + token[11:],
        lambda token: token[:10] + "=" + token[11:],
        lambda token: "",
    ],
    ids=["truncated", "extended", "prefix cut", "other version", "non-ascii", "padding"]
    + ["empty"],
)
def test_malformed_tokens_are_invalid(mangle: Callable[[str], str]) -> None:
    token = issue_qr_token(SECRET, member_id=99, now=NOW, ttl_seconds=300).token

    with pytest.raises(TokenInvalid):
        verify_qr_token(SECRET, mangle(token), now=NOW)


def test_a_token_signed_with_another_secret_is_invalid() -> None:
    token = issue_qr_token("another-secret", member_id=1, now=NOW, ttl_seconds=300).token

    with pytest.raises(TokenInvalid):
        verify_qr_token(SECRET, token, now=NOW)


def test_an_expired_token_is_refused_naming_its_member() -> None:
    token = issue_qr_token(SECRET, member_id=31337, now=NOW, ttl_seconds=300).token

    with pytest.raises(TokenExpired) as refused:
        verify_qr_token(SECRET, token, now=NOW + timedelta(seconds=300))

    assert refused.value.member_id == 31337
    assert refused.value.code == "token_expired"


def test_reading_an_expired_token_still_names_its_member() -> None:
    token = issue_qr_token(SECRET, member_id=5, now=NOW, ttl_seconds=60).token

    claims = read_qr_token(SECRET, token)

    assert claims.member_id == 5
    with pytest.raises(TokenInvalid):
        read_qr_token(SECRET, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))


@pytest.mark.parametrize("ttl_seconds", [0, -1, MAX_TTL_SECONDS + 1])
def test_a_lifetime_out_of_range_is_refused(ttl_seconds: int) -> None:
    with pytest.raises(ValueError):
        issue_qr_token(SECRET, member_id=1, now=NOW, ttl_seconds=ttl_seconds)


@given(
    member_id=st.integers(min_value=1, max_value=MAX_INTEGER),
    ttl_seconds=st.integers(min_value=1, max_value=MAX_TTL_SECONDS),
    seconds=st.integers(min_value=0, max_value=2**31),
)
def test_any_member_and_lifetime_round_trip(member_id: int, ttl_seconds: int, seconds: int) -> None:
    now = datetime.fromtimestamp(seconds, UTC)
    issued = issue_qr_token(SECRET, member_id=member_id, now=now, ttl_seconds=ttl_seconds)

    claims = verify_qr_token(SECRET, issued.token, now=now)

    assert (claims.member_id, claims.expires_at) == (
        member_id,
        now + timedelta(seconds=ttl_seconds),
    )


def test_a_member_id_no_database_row_can_hold_is_refused() -> None:
    with pytest.raises(ValueError):
        issue_qr_token(SECRET, member_id=MAX_INTEGER + 1, now=NOW, ttl_seconds=60)
