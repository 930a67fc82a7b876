"""The LINE and Messenger webhook bodies and signature vectors the tests use.

They live in tests/fixtures (tests/fixtures/README.md says where each comes from), so a
clone of the repository tests on its own. Where the platforms' own published samples
are at hand (PUBLISHED), their signature vectors are checked too; without them those
extra cases are skipped with a reason.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest

Platform = Literal["line", "messenger"]

OWN = Path(__file__).resolve().parent / "fixtures"
PUBLISHED = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"
VECTORS_FILE = "signature_vectors.json"


@dataclass(frozen=True)
class SignatureVector:
    """A body signed with a secret; `valid` says whether the signature matches."""

    origin: str
    secret: str
    body: bytes
    header: str
    signature: str
    valid: bool


def payload_bytes(platform: Platform, name: str) -> bytes:
    """A webhook body's exact bytes (signatures are computed over these)."""
    return (OWN / platform / name).read_bytes()


def payload_json(platform: Platform, name: str) -> Any:
    return json.loads(payload_bytes(platform, name))


def payload_names(platform: Platform) -> list[str]:
    """Every webhook body of a platform, by file name."""
    return sorted(p.name for p in (OWN / platform).glob("*.json") if p.name != VECTORS_FILE)


def own_vectors(platform: Platform) -> list[SignatureVector]:
    """Vectors computed for this repository with the platforms' documented algorithms."""
    return _read_vectors(platform, OWN / platform)


def vector_params(platform: Platform) -> list[Any]:
    """Our vectors, then the platforms' published ones, as pytest parameters. Without
    the published folder its one parameter is skipped, saying why."""
    params = [pytest.param(v, id=f"own-{i}-{v.valid}") for i, v in enumerate(own_vectors(platform))]
    published = PUBLISHED / platform
    if not (published / VECTORS_FILE).is_file():
        reason = f"the platforms' published vectors are not beside this checkout ({published})"
        return [*params, pytest.param(None, id="published", marks=pytest.mark.skip(reason=reason))]
    vectors = _read_vectors(platform, published)
    return params + [pytest.param(v, id=f"published-{i}-{v.valid}") for i, v in enumerate(vectors)]


def _read_vectors(platform: Platform, folder: Path) -> list[SignatureVector]:
    raw_vectors = json.loads((folder / VECTORS_FILE).read_text())
    return [_vector(platform, folder, raw) for raw in raw_vectors]


def _vector(platform: Platform, folder: Path, raw: dict[str, Any]) -> SignatureVector:
    body = (folder / raw["body_file"]).read_bytes() if "body_file" in raw else raw["body"].encode()
    if platform == "line":
        return SignatureVector(raw["origin"], raw["channel_secret"], body, "X-Line-Signature",
                               raw["x_line_signature"], raw["valid"])
    return SignatureVector(raw["origin"], raw["app_secret"], body, raw["header"], raw["value"],
                           raw["valid"])
