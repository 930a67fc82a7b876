"""Where the shared platform fixtures live (the repo's parent folder's shared/fixtures)."""

import json
from pathlib import Path
from typing import Any

LINE_FIXTURES = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures" / "line"


def load_line_fixture(name: str) -> Any:
    return json.loads((LINE_FIXTURES / name).read_bytes())
