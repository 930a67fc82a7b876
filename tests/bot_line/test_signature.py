import base64
import hashlib
import hmac
import json

import pytest

from bot.line.signature import verify_signature
from tests.bot_line.fixtures import LINE_FIXTURES, load_line_fixture

VECTORS = load_line_fixture("signature_vectors.json")


def _body(vector: dict[str, str]) -> bytes:
    if "body_file" in vector:
        return (LINE_FIXTURES / vector["body_file"]).read_bytes()
    return vector["body"].encode()


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: f"{v['origin'][:40]}-{v['valid']}")
def test_sdk_signature_vectors_are_accepted_or_rejected_as_published(vector: dict) -> None:
    assert (
        verify_signature(vector["channel_secret"], _body(vector), vector["x_line_signature"])
        is vector["valid"]
    )


def test_vectors_cover_both_outcomes_and_a_raw_file() -> None:
    assert {vector["valid"] for vector in VECTORS} == {True, False}
    assert any("body_file" in vector for vector in VECTORS)


@pytest.mark.parametrize("header", [None, ""])
def test_missing_signature_header_is_a_failure(header: str | None) -> None:
    assert verify_signature("channel_secret", b"bodybodybodybody", header) is False


def test_re_serialised_body_no_longer_matches_the_signature() -> None:
    vector = next(v for v in VECTORS if "body_file" in v)
    raw = _body(vector)
    reserialised = json.dumps(json.loads(raw)).encode()
    assert verify_signature(vector["channel_secret"], raw, vector["x_line_signature"])
    assert not verify_signature(vector["channel_secret"], reserialised, vector["x_line_signature"])


def test_signature_with_non_ascii_characters_is_rejected_not_raised() -> None:
    assert verify_signature("secret", b"body", "簽名") is False


def test_signature_made_with_another_secret_is_rejected() -> None:
    body = b'{"events":[]}'
    forged = base64.b64encode(hmac.new(b"other", body, hashlib.sha256).digest()).decode()
    assert verify_signature("secret", body, forged) is False
