"""The staff page's JSON endpoints. Each checks the session (and, for a write, its CSRF
token) and calls the shared counter core (loyalty.counter), as the POS API does; nothing
here decides what a visit or a redemption is."""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy.ext.asyncio import AsyncSession

from broadcast.notify import Notifier
from core.bounds import Amount, JsonDbId, JsonInt, exactly_one_of
from core.clock import utcnow
from core.errors import Forbidden, error_responses
from core.i18n import t
from core.settings import Settings
from handlers.deps import (
    ClientAddressDep,
    NotifierDep,
    SessionDep,
    SettingsDep,
    StaffLimitsDep,
)
from handlers.staff.auth import AtCounter, require_counter
from handlers.staff.limits import StaffLimits
from handlers.staff.locale import staff_locale
from handlers.staff.views import (
    adjustment_message,
    member_view,
    outcome_view,
    recent_view,
    tags_view,
)
from loyalty import counter, tags
from loyalty.adjustments import adjust_stamps
from loyalty.counter import CounterActor, CounterOutcome
from loyalty.tags import MAX_TAG_NAME, Tagger

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


class TagRequest(BaseModel):
    member_id: JsonDbId
    tag: str = Field(min_length=1, max_length=MAX_TAG_NAME,
                     description="Trimmed; one line, no control characters.")


class AdjustRequest(BaseModel):
    member_id: JsonDbId
    stamps: JsonInt = Field(ge=-MAX_ADJUSTMENT, le=MAX_ADJUSTMENT,
                            json_schema_extra={"not": {"const": 0}},
                            description="stamps to add, or with a minus sign to remove (not 0)")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                             max_length=200)]


router = APIRouter(prefix="/staff/api", tags=["staff"])


@dataclass(frozen=True, slots=True)
class CounterCall:
    """One counter request: its transaction, the signed-in counter (CSRF checked for
    writes), the actor the core acts for, the staff's locale."""

    session: AsyncSession
    at: AtCounter
    actor: CounterActor
    locale: str
    settings: Settings
    notifier: Notifier


async def _counter_call(
    request: Request, session: SessionDep, settings: SettingsDep, notifier: NotifierDep
) -> CounterCall:
    locale = staff_locale(request, settings.default_locale)
    at = await require_counter(request, session, settings, utcnow(), locale)
    actor = CounterActor(store_id=at.store.id, staff_id=at.staff.id, locale=locale)
    return CounterCall(session, at, actor, locale, settings, notifier)


CounterCallDep = Annotated[CounterCall, Depends(_counter_call)]


@router.post("/lookup", responses=ERRORS)
async def lookup(
    body: Annotated[Credential, Body()], call: CounterCallDep, limits: StaffLimitsDep,
    address: ClientAddressDep,
) -> JSONResponse:
    """The member behind a scanned QR token or a typed short code (uses neither)."""
    _limit_typed_code(call, limits, body, address)
    now = utcnow()
    with call.notifier.fresh_card_when_due(now=now):
        card = await counter.lookup(
            call.session, actor=call.actor, secret_key=call.settings.secret_key,
            token=body.token, short_code=body.short_code, now=now,
        )
    return _json({"member": member_view(card, locale=call.locale,
                                        timezone=call.at.store.timezone, now=utcnow()),
                  "tags": await _tags_view(call, card.member_id)})


@router.post("/visit", responses=ERRORS)
async def visit(
    body: Annotated[VisitRequest, Body()], call: CounterCallDep, limits: StaffLimitsDep,
    address: ClientAddressDep,
) -> JSONResponse:
    """「集點 +1」: one visit for the member, with the amount spent if given."""
    _limit_typed_code(call, limits, body, address)
    now = utcnow()
    with call.notifier.fresh_card_when_due(now=now):
        outcome = await counter.add_visit(
            call.session, actor=call.actor, secret_key=call.settings.secret_key,
            token=body.token, short_code=body.short_code, amount=body.amount, now=now,
        )
    return _json(await _written(call, outcome))


@router.post("/redeem", responses=ERRORS)
async def redeem(
    body: Annotated[RedeemRequest, Body()], call: CounterCallDep, limits: StaffLimitsDep,
    address: ClientAddressDep,
) -> JSONResponse:
    """Redeem one of the member's available rewards at this store."""
    _limit_typed_code(call, limits, body, address)
    now = utcnow()
    with call.notifier.fresh_card_when_due(now=now):
        outcome = await counter.redeem(
            call.session, actor=call.actor, secret_key=call.settings.secret_key,
            reward_id=body.reward_id, token=body.token, short_code=body.short_code,
            member_id=body.member_id, now=now,
        )
    return _json(await _written(call, outcome))


@router.post("/void", responses=ERRORS)
async def void(body: Annotated[VoidRequest, Body()], call: CounterCallDep) -> JSONResponse:
    """Take back an action at this store (managers and admins)."""
    if not call.at.may_void:
        raise Forbidden(t("staff.error.not_manager", call.locale))
    outcome = await counter.void(
        call.session, actor=call.actor, entry_id=body.entry_id, reason=body.reason,
        now=utcnow(),
    )
    return _json(await _written(call, outcome))


@router.post("/adjust", responses=ERRORS)
async def adjust(body: Annotated[AdjustRequest, Body()], call: CounterCallDep) -> JSONResponse:
    """Add or remove a member's stamps, with the reason (managers and admins); the
    ledger keeps who did it, at this store."""
    if not call.at.may_adjust:
        raise Forbidden(t("staff.error.not_manager_adjust", call.locale))
    entry = await adjust_stamps(
        call.session, member_id=body.member_id, stamps=body.stamps,
        staff_id=call.at.staff.id, reason=body.reason, now=utcnow(),
        store_id=call.at.store.id, locale=call.locale,
    )
    card = await counter.lookup(
        call.session, actor=call.actor, secret_key=call.settings.secret_key,
        member_id=body.member_id, now=utcnow(),
    )
    outcome = CounterOutcome(
        kind="adjustment", member=card, entry_id=entry.id, rewards_issued=[],
        message=adjustment_message(entry.stamps, card, locale=call.locale),
    )
    return _json(await _written(call, outcome))


@router.post("/tag", responses=ERRORS)
async def tag(body: Annotated[TagRequest, Body()], call: CounterCallDep) -> JSONResponse:
    """Tag the member on screen by hand, as this staff account (a new name makes the
    tag)."""
    await tags.tag_member(call.session, member_id=body.member_id, name=body.tag,
                          by=Tagger.staff(call.at.staff.id), now=utcnow(), locale=call.locale)
    return await _tagged(call, body.member_id, "tags.staff.added", body.tag)


@router.post("/untag", responses=ERRORS)
async def untag(body: Annotated[TagRequest, Body()], call: CounterCallDep) -> JSONResponse:
    """Take a tag off the member on screen, whatever set it; the history keeps both."""
    await tags.untag_member(call.session, member_id=body.member_id, name=body.tag,
                            by=Tagger.staff(call.at.staff.id), now=utcnow(), locale=call.locale)
    return await _tagged(call, body.member_id, "tags.staff.removed", body.tag)


async def _tagged(call: CounterCall, member_id: int, message: str, name: str) -> JSONResponse:
    return _json({"message": t(message, call.locale, name=tags.clean_tag_name(name)),
                  "tags": await _tags_view(call, member_id)})


async def _tags_view(call: CounterCall, member_id: int) -> list[dict[str, str]]:
    views = await tags.member_tags(call.session, member_id=member_id)
    return tags_view(views, locale=call.locale)


@router.get("/recent", responses=error_responses(401))
async def recent(call: CounterCallDep) -> JSONResponse:
    """The last ten actions at this store's counter, newest first."""
    return _json({"recent": await _recent_view(call)})


def _limit_typed_code(
    call: CounterCall, limits: StaffLimits, credential: Credential, address: str
) -> None:
    """A typed short code could be guessed; a scanned token carries its own signature."""
    if credential.short_code is not None:
        limits.check_short_code(staff_id=call.at.staff.id, address=address, locale=call.locale)


async def _recent_view(call: CounterCall) -> list[dict[str, Any]]:
    actions = await counter.recent_actions(
        call.session, store_id=call.at.store.id, limit=RECENT_LIMIT
    )
    return recent_view(actions, locale=call.locale, may_void=call.at.may_void,
                       timezone=call.at.store.timezone, now=utcnow())


async def _written(call: CounterCall, outcome: CounterOutcome) -> dict[str, Any]:
    """A write's answer: what happened, and the counter's history including it. The
    member hears of it once the request's transaction commits."""
    call.notifier.tell(call.session, outcome.notice, now=utcnow())
    return {
        "outcome": outcome_view(outcome, locale=call.locale, timezone=call.at.store.timezone,
                                now=utcnow()),
        "recent": await _recent_view(call),
        # A visit or a redemption may have tagged the member (loyalty.tag_rules).
        "tags": await _tags_view(call, outcome.member.member_id),
    }


def _json(content: dict[str, Any]) -> JSONResponse:
    return JSONResponse(content, headers=NO_STORE)
