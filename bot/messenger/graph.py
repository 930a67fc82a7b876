"""Reading the Graph API's error body: `{"error": {message, type, code, error_subcode}}`."""

from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True, slots=True)
class GraphError:
    message: str
    code: int | None = None
    subcode: int | None = None
    type: str | None = None
    # Graph's own hint that the same call may succeed later.
    transient: bool = False

    def as_detail(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "code": self.code,
            "subcode": self.subcode,
            "type": self.type,
        }


def read_graph_error(response: httpx.Response) -> GraphError | None:
    """The error a failed Graph call describes, or None when its body is not one."""
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    return GraphError(
        message=str(error.get("message") or ""),
        code=_integer(error.get("code")),
        subcode=_integer(error.get("error_subcode")),
        type=error.get("type") if isinstance(error.get("type"), str) else None,
        transient=error.get("is_transient") is True,
    )


def _integer(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
