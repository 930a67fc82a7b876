"""The shared platform fixtures (/work/shared/fixtures/messenger), read as bytes or JSON."""

import json
from pathlib import Path
from typing import Any

MESSENGER_FIXTURES = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures" / "messenger"
)


def fixture_bytes(name: str) -> bytes:
    return (MESSENGER_FIXTURES / name).read_bytes()


def fixture_json(name: str) -> Any:
    return json.loads(fixture_bytes(name))
