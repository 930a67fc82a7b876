"""The staff page's JSON endpoints. Each checks the session (and, for a write, its CSRF
token) and calls the shared counter core, as the POS API does; nothing here decides
what a visit or a redemption is."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy.ext.asyncio import AsyncSession

from core.bounds import Amount, JsonDbId, JsonInt, exactly_one_of
from core.clock import utcnow
from core.errors import Forbidden, error_responses
from core.i18n import t
from handlers.counter import Counter, CounterActor, CounterOutcome
from handlers.staff.auth import AtCounter, require_counter
from handlers.staff.limits import StaffLimits
from handlers.staff.locale import staff_locale
from handlers.staff.views import adjustment_message, member_view, outcome_view, recent_view
from loyalty.adjustments import adjust_stamps

NO_STORE = {"Cache-Control": "no-store"}
RECENT_LIMIT = 10
# Signed out (401), a bad CSRF token or a barista's void (403), an unknown entry (404),
# a refused action (400, 409, 422), typed codes too fast (429); 400 also: a body that is not
# JSON.
ERRORS = error_responses(400, 401, 403, 404, 409, 422, 429)
# A correction by hand is a few stamps; a bigger one is a typo or belongs to a campaign.
MAX_ADJUSTMENT = 20


class Credential(BaseModel):
    """How the member was identified: the scanned QR token, or the code typed by hand."""

    model_config = ConfigDict(json_schema_extra=exactly_one_of(token="string", short_code="string"))

    token: str | None = Field(default=None, min_length=1, max_length=100)
    short_code: str | None = Field(default=None, min_length=1, max_length=20)


class VisitRequest(Credential):
    amount: Amount | None = None


class RedeemRequest(Credential):
    # The staff page redeems for the member on screen: its id is a third way in.
    model_config = ConfigDict(json_schema_extra=exactly_one_of(
        token="string", short_code="string", member_id="integer"))

    reward_id: JsonDbId
    member_id: JsonDbId | None = None


class VoidRequest(BaseModel):
    entry_id: JsonDbId
    reason: str | None = Field(default=None, max_length=200)


class AdjustRequest(BaseModel):
    member_id: JsonDbId
    stamps: JsonInt = Field(ge=-MAX_ADJUSTMENT, le=MAX_ADJUSTMENT,
                            json_schema_extra={"not": {"const": 0}},
                            description="stamps to add, or with a minus sign to remove (not 0)")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                             max_length=200)]


def api_router(limits: StaffLimits) -> APIRouter:
    router = APIRouter(prefix="/staff/api", tags=["staff"])

    @router.post("/lookup", responses=ERRORS)
    async def lookup(request: Request, body: Annotated[Credential, Body()]) -> JSONResponse:
        """The member behind a scanned QR token or a typed short code (uses neither)."""
        async with _counter_call(request, limits, body) as call:
            card = await _counter(request).lookup(
                call.session, actor=call.actor, token=body.token, short_code=body.short_code,
                now=utcnow(),
            )
        return _json({"member": member_view(card, locale=call.locale,
                                            timezone=call.at.store.timezone, now=utcnow())})

    @router.post("/visit", responses=ERRORS)
    async def visit(request: Request, body: Annotated[VisitRequest, Body()]) -> JSONResponse:
        """「集點 +1」: one visit for the member, with the amount spent if given."""
        async with _counter_call(request, limits, body) as call:
            outcome = await _counter(request).add_visit(
                call.session, actor=call.actor, token=body.token, short_code=body.short_code,
                amount=body.amount, now=utcnow(),
            )
            return _json(await _written(request, call, outcome))

    @router.post("/redeem", responses=ERRORS)
    async def redeem(request: Request, body: Annotated[RedeemRequest, Body()]) -> JSONResponse:
        """Redeem one of the member's available rewards at this store."""
        async with _counter_call(request, limits, body) as call:
            outcome = await _counter(request).redeem(
                call.session, actor=call.actor, reward_id=body.reward_id, token=body.token,
                short_code=body.short_code, member_id=body.member_id, now=utcnow(),
            )
            return _json(await _written(request, call, outcome))

    @router.post("/void", responses=ERRORS)
    async def void(request: Request, body: Annotated[VoidRequest, Body()]) -> JSONResponse:
        """Take back an action at this store (managers and admins)."""
        async with _counter_call(request, limits, None) as call:
            if not call.at.may_void:
                raise Forbidden(t("staff.error.not_manager", call.locale))
            outcome = await _counter(request).void(
                call.session, actor=call.actor, entry_id=body.entry_id, reason=body.reason,
                now=utcnow(),
            )
            return _json(await _written(request, call, outcome))

    @router.post("/adjust", responses=ERRORS)
    async def adjust(request: Request, body: Annotated[AdjustRequest, Body()]) -> JSONResponse:
        """Add or remove a member's stamps, with the reason (managers and admins); the
        ledger keeps who did it, at this store."""
        async with _counter_call(request, limits, None) as call:
            if not call.at.may_adjust:
                raise Forbidden(t("staff.error.not_manager_adjust", call.locale))
            entry = await adjust_stamps(
                call.session, member_id=body.member_id, stamps=body.stamps,
                staff_id=call.at.staff.id, reason=body.reason, now=utcnow(),
                store_id=call.at.store.id, locale=call.locale,
            )
            card = await _counter(request).lookup(
                call.session, actor=call.actor, member_id=body.member_id, now=utcnow()
            )
            outcome = CounterOutcome(
                kind="adjustment", member=card, entry_id=entry.id, rewards_issued=[],
                message=adjustment_message(entry.stamps, card, locale=call.locale),
            )
            return _json(await _written(request, call, outcome))

    @router.get("/recent", responses=error_responses(401))
    async def recent(request: Request) -> JSONResponse:
        """The last ten actions at this store's counter, newest first."""
        async with _counter_call(request, limits, None) as call:
            return _json({"recent": await _recent_view(request, call)})

    return router


@dataclass(frozen=True, slots=True)
class CounterCall:
    session: AsyncSession
    at: AtCounter
    actor: CounterActor
    locale: str


@asynccontextmanager
async def _counter_call(
    request: Request,
    limits: StaffLimits,
    credential: Credential | None,
) -> AsyncIterator[CounterCall]:
    """One counter request: its transaction, the signed-in counter (CSRF checked for
    writes), the actor the core acts for, the staff's locale; typed codes rate limited."""
    locale = staff_locale(request, request.app.state.settings.default_locale)
    async with request.app.state.db.transaction() as session:
        at = await require_counter(request, session, request.app.state.settings, utcnow(), locale)
        if credential is not None:
            _limit_typed_code(request, limits, credential, at, locale)
        actor = CounterActor(store_id=at.store.id, staff_id=at.staff.id, locale=locale)
        yield CounterCall(session, at, actor, locale)


def _limit_typed_code(
    request: Request, limits: StaffLimits, credential: Credential, at: AtCounter, locale: str
) -> None:
    """A typed short code could be guessed; a scanned token carries its own signature."""
    if credential.short_code is not None:
        address = request.client.host if request.client else "unknown"
        limits.check_short_code(staff_id=at.staff.id, address=address, locale=locale)


def _counter(request: Request) -> Counter:
    return request.app.state.counter


async def _recent_view(request: Request, call: CounterCall) -> list[dict[str, Any]]:
    actions = await _counter(request).recent_actions(
        call.session, store_id=call.at.store.id, limit=RECENT_LIMIT
    )
    return recent_view(actions, locale=call.locale, may_void=call.at.may_void,
                       timezone=call.at.store.timezone, now=utcnow())


async def _written(request: Request, call: CounterCall, outcome: CounterOutcome) -> dict[str, Any]:
    """A write's answer: what happened, and the counter's history including it."""
    return {
        "outcome": outcome_view(outcome, locale=call.locale, timezone=call.at.store.timezone,
                                now=utcnow()),
        "recent": await _recent_view(request, call),
    }


def _json(content: dict[str, Any]) -> JSONResponse:
    return JSONResponse(content, headers=NO_STORE)
