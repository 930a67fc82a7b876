"""The POS API: a store's point-of-sale system stamps visits, redeems rewards, voids
mistakes and reads members, authenticated by the store's key.

Every write carries an `Idempotency-Key`: the first answer is stored with the work's
effects in one transaction and a repeat gets it back (same status, same body) without a
second effect. Each route's transaction (SessionDep) commits before the answer is
sent, so a client never sees a success that is not durable. Every refusal has one JSON shape,
`{"error": {"code", "message"}}`, with the message in the Accept-Language's language.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from broadcast.notify import Notifier
from core.bounds import Amount, DbId, JsonDbId, exactly_one_of
from core.clock import utcnow
from core.errors import AppError, error_responses
from core.i18n import t
from core.settings import Settings
from handlers.deps import (
    ClientAddressDep,
    LocaleDep,
    NotifierDep,
    PosKeyDep,
    PosLimitsDep,
    SessionDep,
    SettingsDep,
)
from handlers.pos_limits import PosLimits
from loyalty import counter
from loyalty.counter import CounterActor, CounterOutcome
from loyalty.idempotency import request_hash, run_idempotent
from loyalty.member_card import MemberCard
from loyalty.models import PosKey

MAX_IDEMPOTENCY_KEY_LENGTH = 200


class IdempotencyKeyRequired(AppError):
    status_code = 400
    code = "idempotency_key_required"


router = APIRouter(prefix="/api/v1", tags=["POS"])


class RewardRead(BaseModel):
    id: int
    name: str
    expires_at: datetime | None


class MemberRead(BaseModel):
    id: int
    display_name: str | None
    stamps: int
    stamps_required: int
    rewards: list[RewardRead] = Field(description="Available rewards; redeem one by its id.")
    tier: str | None
    last_visit_at: datetime | None

    @classmethod
    def of(cls, card: MemberCard) -> "MemberRead":
        return cls(
            id=card.member_id,
            display_name=card.display_name,
            stamps=card.stamps,
            stamps_required=card.stamps_required,
            rewards=[RewardRead(id=r.id, name=r.name, expires_at=r.expires_at)
                     for r in card.rewards_available],
            tier=card.tier,
            last_visit_at=card.last_visit_at,
        )


class OutcomeRead(BaseModel):
    kind: str = Field(examples=["visit"], description="visit | redemption | void")
    entry_id: int | None = Field(description="The ledger entry written (a void: the reversal).")
    message: str = Field(description="The result line for the staff.")
    member: MemberRead = Field(description="The member's state after the action.")
    rewards_issued: list[RewardRead]

    @classmethod
    def of(cls, outcome: CounterOutcome) -> "OutcomeRead":
        return cls(
            kind=outcome.kind,
            entry_id=outcome.entry_id,
            message=outcome.message,
            member=MemberRead.of(outcome.member),
            rewards_issued=[RewardRead(id=r.id, name=r.name, expires_at=r.expires_at)
                            for r in outcome.rewards_issued],
        )


class MemberPresented(BaseModel):
    """Who is at the counter: the scanned QR token, or the short code typed instead."""

    model_config = ConfigDict(json_schema_extra=exactly_one_of(token="string", short_code="string"))

    token: str | None = Field(default=None, min_length=1, max_length=200,
                              description="The scanned QR token.")
    short_code: str | None = Field(default=None, min_length=1, max_length=32,
                                   examples=["K7P4-QX9M"])

    @model_validator(mode="after")
    def _one_way_in(self) -> "MemberPresented":
        if (self.token is None) == (self.short_code is None):
            raise ValueError("give exactly one of token and short_code")
        return self


class VisitCreate(MemberPresented):
    amount: Amount | None = None


class RedemptionCreate(MemberPresented):
    reward_id: JsonDbId


class VoidCreate(BaseModel):
    reason: str | None = Field(default=None, max_length=500)


ERRORS = error_responses(400, 401, 403, 404, 409, 422, 429)
# Read as optional, so a missing key gets its own refusal (`idempotency_key_required`)
# rather than a generic 422; documented as the required header it is (REQUIRES_KEY).
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", include_in_schema=False)]
REQUIRES_KEY: dict[str, Any] = {"parameters": [{
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY_LENGTH},
    "description": "Unique per intended action; a retry with the same key gets the first "
                   "answer back. Missing: 400 `idempotency_key_required`.",
}]}
Action = Callable[[AsyncSession, CounterActor, datetime], Awaitable[CounterOutcome]]


def require_idempotency_key(value: str | None, locale: str) -> str:
    if value is None or not 0 < len(value) <= MAX_IDEMPOTENCY_KEY_LENGTH:
        raise IdempotencyKeyRequired(t("counter.error.idempotency_key_required", locale))
    return value


@dataclass(frozen=True, slots=True)
class PosCall:
    """What every POS write gets from its request."""

    request: Request
    session: AsyncSession
    pos_key: PosKey
    locale: str
    settings: Settings
    notifier: Notifier
    limits: PosLimits
    address: str


async def _pos_call(
    request: Request, session: SessionDep, pos_key: PosKeyDep, locale: LocaleDep,
    settings: SettingsDep, notifier: NotifierDep, limits: PosLimitsDep,
    address: ClientAddressDep,
) -> PosCall:
    return PosCall(request, session, pos_key, locale, settings, notifier, limits, address)


PosCallDep = Annotated[PosCall, Depends(_pos_call)]


async def _write(
    call: PosCall,
    *,
    idempotency_key: str | None,
    body: BaseModel | None,
    success_status: int,
    action: Action,
) -> JSONResponse:
    """Run `action` once per Idempotency-Key; the answer goes out after the commit
    (SessionDep), and so do the member's notifications."""
    key_text = require_idempotency_key(idempotency_key, call.locale)
    payload = body.model_dump(mode="json") if body is not None else None
    if isinstance(body, MemberPresented) and body.short_code is not None:
        call.limits.check_short_code(key_id=call.pos_key.id, address=call.address,
                                     locale=call.locale)
    actor = CounterActor(store_id=call.pos_key.store_id, pos_key_id=call.pos_key.id,
                         locale=call.locale)

    async def work() -> tuple[int, dict[str, Any]]:
        now = utcnow()
        with call.notifier.fresh_card_when_due(now=now):
            outcome = await action(call.session, actor, now)
        call.notifier.tell(call.session, outcome.notice, now=now)
        return success_status, OutcomeRead.of(outcome).model_dump(mode="json")

    answer = await run_idempotent(
        call.session,
        scope=f"pos:store:{call.pos_key.store_id}",
        key=key_text,
        request_hash=request_hash(call.request.method, call.request.url.path, payload),
        work=work,
        locale=call.locale,
    )
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return JSONResponse(answer.body, status_code=answer.status_code, headers=headers)


@router.post("/visits", status_code=201, response_model=OutcomeRead, responses=ERRORS,
             openapi_extra=REQUIRES_KEY, summary="Stamp a visit")
async def add_visit(
    body: VisitCreate,
    call: PosCallDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Stamps the visit of the member whose QR token (or short code) is presented, with
    the amount spent if the POS knows it. Answers the member's new state: stamps,
    available rewards with their ids, tier. Refusals: `token_invalid`, `token_expired`
    (a fresh card is sent to the member), `token_used`, `cooldown`, `forbidden`."""

    async def action(session: AsyncSession, actor: CounterActor, now: datetime) -> CounterOutcome:
        return await counter.add_visit(
            session, actor=actor, secret_key=call.settings.secret_key, token=body.token,
            short_code=body.short_code, amount=body.amount, now=now,
        )

    return await _write(call, idempotency_key=idempotency_key, body=body, success_status=201,
                        action=action)


@router.post("/redemptions", status_code=201, response_model=OutcomeRead, responses=ERRORS,
             openapi_extra=REQUIRES_KEY, summary="Redeem a reward")
async def redeem(
    body: RedemptionCreate,
    call: PosCallDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Redeems one of the presenting member's available rewards (an id from the member's
    `rewards`). Of simultaneous redemptions of one reward exactly one succeeds.
    Refusals: `token_invalid`, `token_expired`, `no_reward`, `already_redeemed`,
    `reward_expired`, `forbidden`."""

    async def action(session: AsyncSession, actor: CounterActor, now: datetime) -> CounterOutcome:
        return await counter.redeem(
            session, actor=actor, secret_key=call.settings.secret_key, reward_id=body.reward_id,
            token=body.token, short_code=body.short_code, now=now,
        )

    return await _write(call, idempotency_key=idempotency_key, body=body, success_status=201,
                        action=action)


@router.post("/ledger/{entry_id}/void", response_model=OutcomeRead, responses=ERRORS,
             openapi_extra=REQUIRES_KEY, summary="Void a ledger entry")
async def void(
    entry_id: DbId,
    call: PosCallDep,
    body: VoidCreate | None = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Reverses a stamp or redemption made at this store (and what it caused: a reward
    its stamps issued is withdrawn; a voided redemption gives the reward back).
    Refusals: `not_found`, `forbidden` (another store's entry), `already_voided`,
    `not_voidable`, `reward_already_redeemed`, `stamps_already_used`."""
    reason = body.reason if body else None

    async def action(session: AsyncSession, actor: CounterActor, now: datetime) -> CounterOutcome:
        return await counter.void(session, actor=actor, entry_id=entry_id, reason=reason, now=now)

    return await _write(call, idempotency_key=idempotency_key, body=body or VoidCreate(),
                        success_status=200, action=action)


@router.get("/members/{member_id}", response_model=MemberRead, responses=ERRORS,
            summary="Read a member")
async def read_member(
    member_id: DbId,
    session: SessionDep,
    pos_key: PosKeyDep,
    locale: LocaleDep,
    settings: SettingsDep,
) -> MemberRead:
    """The member's stamps, available rewards (with ids), tier and last visit."""
    actor = CounterActor(store_id=pos_key.store_id, pos_key_id=pos_key.id, locale=locale)
    card = await counter.lookup(session, actor=actor, secret_key=settings.secret_key,
                                member_id=member_id, now=utcnow())
    return MemberRead.of(card)
