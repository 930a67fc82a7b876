"""The fake LINE audience API: audiences for uploading user ids by JSON (create, add,
read, delete), with LINE's limits: at most 10,000 ids a call, 60 calls a minute
(docs/platforms.md). Narrowcast reads the audiences it names from the same state."""

from typing import Any

from fastapi import APIRouter, Request

from bot.sandbox.admission import admit
from bot.sandbox.errors import PlatformError, PlatformRoute, line_error, line_invalid_property
from bot.sandbox.line_common import LINE_REFUSALS as REFUSALS
from bot.sandbox.line_common import json_body
from bot.sandbox.state import SandboxState

MAX_IDS_PER_CALL = 10_000
MAX_DESCRIPTION_LENGTH = 120


def line_audience_router(state: SandboxState) -> APIRouter:
    """Mounted inside the LINE router, which checks the access token."""
    router = APIRouter(route_class=PlatformRoute)

    @router.post("/v2/bot/audienceGroup/upload", status_code=202)
    async def create_audience(request: Request) -> dict[str, Any]:
        """Create an audience from up to 10,000 user ids."""
        admit(state, "line_audience", REFUSALS)
        body = await json_body(request)
        description = body.get("description")
        if not isinstance(description, str) or not 1 <= len(description) <= MAX_DESCRIPTION_LENGTH:
            raise line_invalid_property(
                "description", f"Length must be between 1 and {MAX_DESCRIPTION_LENGTH}"
            )
        audience = state.create_audience(description, _user_ids(body))
        return {
            "audienceGroupId": audience.audience_group_id,
            "createRoute": "MESSAGING_API",
            "type": "UPLOAD",
            "description": audience.description,
            "created": int(audience.created_at),
            "permission": "READ_WRITE",
            "isIfaAudience": False,
        }

    @router.put("/v2/bot/audienceGroup/upload", status_code=202)
    async def add_to_audience(request: Request) -> dict[str, Any]:
        """Add up to 10,000 more user ids to an audience."""
        admit(state, "line_audience", REFUSALS)
        body = await json_body(request)
        audience_group_id = body.get("audienceGroupId")
        if not isinstance(audience_group_id, int) or isinstance(audience_group_id, bool):
            raise line_invalid_property("audienceGroupId", "must be specified")
        if not state.add_to_audience(audience_group_id, _user_ids(body)):
            raise _no_audience()
        return {}

    @router.get("/v2/bot/audienceGroup/{audience_group_id}")
    async def audience(audience_group_id: int) -> dict[str, Any]:
        """An audience's status and size."""
        admit(state, "line_audience", REFUSALS)
        found = state.audience(audience_group_id)
        if found is None:
            raise _no_audience()
        return {"audienceGroup": found.to_json(), "jobs": []}

    @router.delete("/v2/bot/audienceGroup/{audience_group_id}")
    async def delete_audience(audience_group_id: int) -> dict[str, Any]:
        admit(state, "line_audience", REFUSALS)
        if not state.delete_audience(audience_group_id):
            raise _no_audience()
        return {}

    return router


def _user_ids(body: dict[str, Any]) -> list[str]:
    audiences = body.get("audiences", [])
    if not isinstance(audiences, list):
        raise line_invalid_property("audiences", "must be an array")
    if len(audiences) > MAX_IDS_PER_CALL:
        raise line_invalid_property("audiences", f"Size must be between 0 and {MAX_IDS_PER_CALL}")
    ids = [entry["id"] for entry in audiences
           if isinstance(entry, dict) and isinstance(entry.get("id"), str) and entry["id"]]
    if len(ids) != len(audiences):
        raise line_invalid_property("audiences[].id", "must be specified")
    return ids


def _no_audience() -> PlatformError:
    return line_error(404, "Audience group not found")
