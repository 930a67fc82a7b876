"""The sandbox's own control API: what tests, benchmarks and the simulator use to look at
and steer the fake platforms."""

from typing import Any

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, Field

from bot.sandbox.faults import Fault, FaultEffect
from bot.sandbox.limits import EndpointKind, RateLimit
from bot.sandbox.state import SandboxState
from bot.types import Platform


class UserCreate(BaseModel):
    platform: Platform
    user_id: str | None = None
    display_name: str = Field(min_length=1, max_length=100)
    language: str = "zh-TW"
    # A LINE user registered here is a friend of the account unless told otherwise.
    following: bool = True


class FaultCreate(BaseModel):
    endpoint: EndpointKind
    effect: FaultEffect
    count: int | None = Field(default=None, ge=1)
    fraction: float | None = Field(default=None, gt=0, le=1)
    delay_seconds: float | None = Field(default=None, ge=0)


class UserRef(BaseModel):
    user_id: str


class RateLimitUpdate(BaseModel):
    requests: int = Field(ge=1)
    per_seconds: float = Field(gt=0)


class QuotaUpdate(BaseModel):
    monthly_quota: int | None = Field(default=None, ge=0)


def control_router(state: SandboxState) -> APIRouter:
    router = APIRouter()

    @router.get("/messages")
    async def messages(
        platform: Platform | None = None, user_id: str | None = None, after_id: int = 0
    ) -> dict[str, Any]:
        """Messages the fake APIs accepted, oldest first, after `after_id`."""
        found = state.all_messages(platform=platform, user_id=user_id, after_id=after_id)
        return {"messages": [message.to_json() for message in found]}

    @router.get("/users")
    async def users(platform: Platform | None = None) -> dict[str, Any]:
        """Simulated users."""
        return {"users": [user.to_json() for user in state.users(platform)]}

    @router.post("/users", status_code=201)
    async def register_user(user: UserCreate) -> dict[str, Any]:
        """Register a simulated user (an id is generated when none is given)."""
        registered = state.register_user(
            user.platform,
            user.user_id,
            display_name=user.display_name,
            language=user.language,
            following=user.following if user.platform == "line" else None,
        )
        return registered.to_json()

    @router.get("/faults")
    async def faults() -> dict[str, Any]:
        """Faults switched on."""
        return {"faults": [fault.to_json() for fault in state.faults()]}

    @router.post("/faults", status_code=201)
    async def add_fault(fault: FaultCreate) -> dict[str, Any]:
        """Switch a fault on for the next `count` calls, a `fraction` of calls, or all."""
        state.add_fault(
            Fault(fault.endpoint, fault.effect, fault.count, fault.fraction, fault.delay_seconds)
        )
        return {"faults": [active.to_json() for active in state.faults()]}

    @router.delete("/faults", status_code=204)
    async def clear_faults(endpoint: EndpointKind | None = None) -> Response:
        """Switch faults off (all, or one endpoint's)."""
        state.clear_faults(endpoint)
        return Response(status_code=204)

    @router.put("/rate-limits/{endpoint}", status_code=204)
    async def set_rate_limit(endpoint: EndpointKind, limit: RateLimitUpdate) -> Response:
        """Change an endpoint's rate limit."""
        state.set_rate_limit(endpoint, RateLimit(limit.requests, limit.per_seconds))
        return Response(status_code=204)

    @router.delete("/rate-limits/{endpoint}", status_code=204)
    async def lift_rate_limit(endpoint: EndpointKind) -> Response:
        """Remove an endpoint's rate limit (for benchmarks that measure the client)."""
        state.set_rate_limit(endpoint, None)
        return Response(status_code=204)

    @router.put("/quota", status_code=204)
    async def set_quota(quota: QuotaUpdate) -> Response:
        """Set LINE's monthly message quota (null: unlimited)."""
        state.config.monthly_quota = quota.monthly_quota
        return Response(status_code=204)

    @router.post("/reset", status_code=204)
    async def reset() -> Response:
        """Forget users, messages, tokens, keys, menus, faults and usage."""
        state.reset()
        return Response(status_code=204)

    @router.post("/messenger/inbound", status_code=204)
    async def messenger_inbound(ref: UserRef) -> Response:
        """The person wrote to the page: opens the 24-hour window."""
        if state.user("messenger", ref.user_id) is None:
            raise HTTPException(404, "no such Messenger user; POST /control/users first")
        state.record_messenger_inbound(ref.user_id)
        return Response(status_code=204)

    @router.post("/reply-tokens", status_code=201)
    async def reply_token(ref: UserRef) -> dict[str, str]:
        """A fresh reply token bound to the user, for a simulated LINE event."""
        return {"replyToken": state.issue_reply_token(ref.user_id)}

    return router
