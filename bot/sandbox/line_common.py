"""What LINE's fake endpoints share: how they read a body and how they refuse."""

import json
from typing import Any

from fastapi import Request

from bot.sandbox.admission import Refusals
from bot.sandbox.errors import line_error

LINE_REFUSALS = Refusals(
    too_many=lambda: line_error(429, "Too Many Requests"),
    server_error=lambda: line_error(500, "Internal Server Error"),
)


async def json_body(request: Request) -> dict[str, Any]:
    """The body as a JSON object; LINE's 400 for anything else."""
    try:
        body = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise line_error(400, "The request body could not be parsed as JSON") from None
    if not isinstance(body, dict):
        raise line_error(400, "The request body could not be parsed as JSON")
    return body
