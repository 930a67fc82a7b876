import hashlib
import hmac

import pytest

from bot.messenger.signature import verify_signature
from tests.platform_fixtures import SignatureVector, own_vectors, payload_bytes, vector_params

VECTORS = own_vectors("messenger")


@pytest.mark.parametrize("vector", vector_params("messenger"))
def test_each_vector_is_accepted_or_rejected_as_marked(vector: SignatureVector) -> None:
    headers = {vector.header: vector.signature}
    assert verify_signature(vector.secret, vector.body, headers) is vector.valid


def test_the_vectors_cover_both_schemes_and_a_mismatch() -> None:
    assert {v.header for v in VECTORS} == {"X-Hub-Signature", "X-Hub-Signature-256"}
    assert any(not v.valid for v in VECTORS)


def _sha256_header(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_header_names_are_matched_case_insensitively() -> None:
    body = b'{"object":"page"}'
    headers = {"x-hub-signature-256": _sha256_header("s3cret", body)}
    assert verify_signature("s3cret", body, headers)


def test_a_missing_header_is_a_failure() -> None:
    assert verify_signature("s3cret", b"{}", {}) is False
    assert verify_signature("s3cret", b"{}", {"Content-Type": "application/json"}) is False


def test_a_re_serialised_body_fails() -> None:
    body = payload_bytes("messenger", "message_text_quick_reply.json")
    headers = {"X-Hub-Signature-256": _sha256_header("test_app_secret", body)}
    reformatted = body.replace(b'":', b'": ')
    assert verify_signature("test_app_secret", body, headers)
    assert not verify_signature("test_app_secret", reformatted, headers)


def test_the_wrong_secret_fails() -> None:
    body = b"{}"
    headers = {"X-Hub-Signature-256": _sha256_header("right", body)}
    assert not verify_signature("wrong", body, headers)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "sha256=",
        "sha256=zz" + "0" * 62,
        "sha256=" + "0" * 63,
        "sha1=" + "0" * 40,
        "md5=" + "0" * 64,
        "0" * 64,
        "sha256=" + "é" * 64,
    ],
)
def test_a_malformed_sha256_value_is_a_failure(value: str) -> None:
    assert verify_signature("s3cret", b"{}", {"X-Hub-Signature-256": value}) is False


def test_a_bad_sha256_header_is_not_rescued_by_a_good_sha1_header() -> None:
    body = b"{}"
    sha1 = "sha1=" + hmac.new(b"s3cret", body, hashlib.sha1).hexdigest()
    headers = {"X-Hub-Signature-256": "sha256=" + "0" * 64, "X-Hub-Signature": sha1}
    assert verify_signature("s3cret", body, {"X-Hub-Signature": sha1})
    assert not verify_signature("s3cret", body, headers)


def test_uppercase_hex_is_accepted() -> None:
    body = b"{}"
    value = _sha256_header("s3cret", body)
    assert verify_signature("s3cret", body, {"X-Hub-Signature-256": value.upper()})
