import base64
import hashlib
import hmac
import json

import pytest

from bot.line.signature import verify_signature
from tests.platform_fixtures import SignatureVector, own_vectors, payload_bytes, vector_params

VECTORS = own_vectors("line")


@pytest.mark.parametrize("vector", vector_params("line"))
def test_signature_vectors_are_accepted_or_rejected_as_labelled(vector: SignatureVector) -> None:
    assert verify_signature(vector.secret, vector.body, vector.signature) is vector.valid


def test_vectors_cover_both_outcomes_and_a_whole_webhook_body() -> None:
    assert {vector.valid for vector in VECTORS} == {True, False}
    assert any(vector.body == payload_bytes("line", "v3_webhook.json") for vector in VECTORS)


@pytest.mark.parametrize("header", [None, ""])
def test_missing_signature_header_is_a_failure(header: str | None) -> None:
    assert verify_signature("channel_secret", b"bodybodybodybody", header) is False


def test_re_serialised_body_no_longer_matches_the_signature() -> None:
    vector = next(v for v in VECTORS if v.valid and v.body.startswith(b"{"))
    reserialised = json.dumps(json.loads(vector.body)).encode()
    assert verify_signature(vector.secret, vector.body, vector.signature)
    assert not verify_signature(vector.secret, reserialised, vector.signature)


def test_signature_with_non_ascii_characters_is_rejected_not_raised() -> None:
    assert verify_signature("secret", b"body", "簽名") is False


def test_signature_made_with_another_secret_is_rejected() -> None:
    body = b'{"events":[]}'
    forged = base64.b64encode(hmac.new(b"other", body, hashlib.sha256).digest()).decode()
    assert verify_signature("secret", body, forged) is False
