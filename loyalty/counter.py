"""The counter: what the staff page and the POS API share. It identifies a member from a
scanned QR token, a typed short code or an id, then stamps, redeems or voids through the
loyalty engine and answers in the staff's language. What the member should be told (in
their language) comes back with the outcome as a notice, for broadcast.notify to send.

An expired but authentic QR (an old card image from the chat) still names its member:
the counter refuses it with FreshCardDue when the member can be reached, and the caller
sends them a fresh card at once (docs/architecture.md)."""

from collections import Counter as Tally
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, joinedload

from cards.models import Member, MemberIdentity
from cards.shortcodes import resolve_short_code
from cards.tokens import verify_qr_token
from core.errors import AppError, TokenExpired, TokenInvalid
from core.i18n import t
from loyalty.balances import RewardView
from loyalty.member_card import MemberCard, member_card
from loyalty.models import LedgerEntry, Program, Reward, Store
from loyalty.programs import reward_name
from loyalty.rewards import redeem_reward
from loyalty.tag_rules import MemberEvent, member_event
from loyalty.visits import VisitResult, record_visit
from loyalty.voids import void_entry

# The entries a counter makes by hand, listed in its history (and undone from there).
COUNTER_ACTIONS = ("stamp", "reward_redeemed")


class InvalidRequest(AppError):
    status_code = 422
    code = "invalid_request"


class FreshCardDue(TokenExpired):
    """An expired but authentic QR of a member who still follows us: the refusal tells
    the staff a fresh card is on its way, and the caller sends it (`member_id`)."""

    member_id: int


@dataclass(frozen=True, slots=True)
class CounterActor:
    store_id: int
    staff_id: int | None = None
    pos_key_id: int | None = None
    locale: str = "zh-TW"


@dataclass(frozen=True, slots=True)
class StampNotice:
    """Tell the member about their stamp, and the reward it unlocked (in their language)."""

    member: Member  # with its identities loaded
    stamps: int
    stamps_required: int
    unlocked_reward: str | None


@dataclass(frozen=True, slots=True)
class RedemptionNotice:
    """Thank the member for redeeming `reward` (in their language) at `store`."""

    member: Member  # with its identities loaded
    reward: str
    store: str


@dataclass(frozen=True, slots=True)
class CounterOutcome:
    kind: str  # "visit" | "redemption" | "void" | "adjustment"
    member: MemberCard  # state after the action
    entry_id: int | None  # the ledger entry written (void: the reversal entry)
    rewards_issued: list[RewardView]
    message: str  # the result line for the staff, in the actor's language
    notice: StampNotice | RedemptionNotice | None = None  # what the member should hear


@dataclass(frozen=True, slots=True)
class RecentAction:
    entry_id: int
    kind: str  # "stamp" | "reward_redeemed"
    display_name: str | None
    stamps: int  # the entry's stamp delta
    created_at: datetime
    voided: bool


@dataclass(frozen=True, slots=True)
class _Identified:
    member_id: int
    token_nonce: str | None  # set when a QR token (scanned or by short code) named them


async def lookup(
    session: AsyncSession,
    *,
    actor: CounterActor,
    secret_key: str,
    token: str | None = None,
    short_code: str | None = None,
    member_id: int | None = None,
    now: datetime,
) -> MemberCard:
    """The member a token, short code or id names, without consuming the token.
    Refusals: token_invalid, token_expired (FreshCardDue when the token was authentic
    and the member can be reached), not_found."""
    found = await _identify(session, actor, secret_key=secret_key, token=token,
                            short_code=short_code, member_id=member_id, now=now)
    return await member_card(session, member_id=found.member_id, locale=actor.locale, now=now)


async def add_visit(
    session: AsyncSession,
    *,
    actor: CounterActor,
    secret_key: str,
    token: str | None = None,
    short_code: str | None = None,
    amount: int | None = None,
    now: datetime,
) -> CounterOutcome:
    """Stamps the visit of the member the QR names (`amount` in minor units, optional).
    Refusals: token_invalid, token_expired, token_used, cooldown, forbidden."""
    if amount is not None and amount < 0:
        raise InvalidRequest(t("errors.invalid_request", actor.locale))
    found = await _identify(session, actor, secret_key=secret_key, token=token,
                            short_code=short_code, now=now)
    # Held for the whole action: the session's identity map only keeps rows someone
    # references, and the engine, the card and the notice all ask for them.
    member = await _member(session, found.member_id)
    visit = await record_visit(
        session,
        member_id=found.member_id,
        store_id=actor.store_id,
        staff_id=actor.staff_id,
        pos_key_id=actor.pos_key_id,
        token_nonce=found.token_nonce,
        amount=amount,
        now=now,
        locale=actor.locale,
    )
    assert member is not None  # record_visit refused not_found otherwise
    await member_event(session, member_id=member.id, now=now,
                       event=MemberEvent("visited_store", store_id=actor.store_id))
    card = MemberCard(
        member_id=member.id,
        display_name=member.display_name,
        stamps=visit.stamps,
        stamps_required=visit.stamps_required,
        reward_name=visit.reward_name,
        rewards_available=visit.rewards_available,
        tier=visit.tier_name,
        last_visit_at=now,
    )
    return CounterOutcome(
        kind="visit",
        member=card,
        entry_id=visit.entry_id,
        rewards_issued=visit.rewards_issued,
        message=_visit_message(visit, actor.locale),
        notice=await _stamp_notice(session, member, visit),
    )


async def redeem(
    session: AsyncSession,
    *,
    actor: CounterActor,
    secret_key: str,
    reward_id: int,
    token: str | None = None,
    short_code: str | None = None,
    member_id: int | None = None,
    now: datetime,
) -> CounterOutcome:
    """Redeems one of the member's rewards at the actor's store; of simultaneous
    redemptions of one reward exactly one succeeds. Refusals: token_invalid,
    token_expired, no_reward, already_redeemed, reward_expired, forbidden."""
    found = await _identify(session, actor, secret_key=secret_key, token=token,
                            short_code=short_code, member_id=member_id, now=now)
    # Held for the whole action (see add_visit), the notice names both.
    member = await _member(session, found.member_id)
    store = await session.get(Store, actor.store_id)
    redeemed = await redeem_reward(
        session,
        reward_id=reward_id,
        member_id=found.member_id,
        store_id=actor.store_id,
        staff_id=actor.staff_id,
        pos_key_id=actor.pos_key_id,
        now=now,
        locale=actor.locale,
    )
    await member_event(session, member_id=found.member_id, now=now,
                       event=MemberEvent("redeemed", store_id=actor.store_id))
    card = await member_card(session, member_id=found.member_id, locale=actor.locale, now=now)
    assert member is not None and store is not None  # redeem_reward refused otherwise
    reward = await session.get(Reward, reward_id)
    assert reward is not None
    notice = RedemptionNotice(member=member, store=store.name,
                              reward=await _reward_name(session, reward, member.locale))
    return CounterOutcome(
        kind="redemption",
        member=card,
        entry_id=redeemed.entry_id,
        rewards_issued=[],
        message=t("counter.result.redemption", actor.locale, reward=redeemed.reward.name),
        notice=notice,
    )


async def void(
    session: AsyncSession,
    *,
    actor: CounterActor,
    entry_id: int,
    reason: str | None = None,
    now: datetime,
) -> CounterOutcome:
    """Reverses a ledger entry (and whatever it caused). Refusals: not_found,
    forbidden, already_voided, not_voidable, reward_already_redeemed,
    stamps_already_used."""
    voided = await void_entry(
        session,
        entry_id=entry_id,
        staff_id=actor.staff_id,
        pos_key_id=actor.pos_key_id,
        now=now,
        reason=reason or "",
        locale=actor.locale,
    )
    entry = await session.get(LedgerEntry, entry_id)
    assert entry is not None  # void_entry refused not_found otherwise
    card = await member_card(session, member_id=entry.member_id, locale=actor.locale, now=now)
    return CounterOutcome(
        kind="void",
        member=card,
        entry_id=voided.void_entry_ids[-1],
        rewards_issued=[],
        message=_void_message(entry, actor.locale),
    )


async def recent_actions(
    session: AsyncSession, *, store_id: int, limit: int = 10
) -> list[RecentAction]:
    """The store's latest stamps and redemptions, newest first, each marked if voided."""
    void = aliased(LedgerEntry)
    is_voided = exists().where(void.reverses_entry_id == LedgerEntry.id)
    rows = await session.execute(
        select(
            LedgerEntry.id,
            LedgerEntry.kind,
            Member.display_name,
            LedgerEntry.stamps,
            LedgerEntry.created_at,
            is_voided.label("voided"),
        )
        .join(Member, Member.id == LedgerEntry.member_id)
        .where(LedgerEntry.store_id == store_id, LedgerEntry.kind.in_(COUNTER_ACTIONS))
        .order_by(LedgerEntry.id.desc())
        .limit(limit)
    )
    return [RecentAction(*row) for row in rows.all()]


async def _identify(
    session: AsyncSession,
    actor: CounterActor,
    *,
    secret_key: str,
    token: str | None,
    short_code: str | None,
    member_id: int | None = None,
    now: datetime,
) -> _Identified:
    given = [value for value in (token, short_code, member_id) if value is not None]
    if len(given) != 1:
        raise InvalidRequest(t("counter.error.identify_one", actor.locale))
    if member_id is not None:
        return _Identified(member_id, None)
    try:
        if short_code is not None:
            token = await resolve_short_code(session, code=short_code, now=now)
        assert token is not None
        claims = verify_qr_token(secret_key, token, now=now)
    except TokenInvalid:
        raise TokenInvalid(t("counter.error.token_invalid", actor.locale)) from None
    except TokenExpired as expired:
        raise await _expired(session, expired.member_id, actor) from None
    return _Identified(claims.member_id, claims.nonce)


async def _expired(
    session: AsyncSession, member_id: int | None, actor: CounterActor
) -> TokenExpired:
    """The refusal of an expired token: FreshCardDue when it names a member we can reach."""
    if member_id is not None and await _has_following_identity(session, member_id):
        return FreshCardDue(t("counter.error.token_expired_card_sent", actor.locale),
                            member_id=member_id)
    return TokenExpired(t("counter.error.token_expired", actor.locale), member_id=member_id)


async def _stamp_notice(session: AsyncSession, member: Member, visit: VisitResult) -> StampNotice:
    unlocked = None
    if visit.rewards_issued:
        reward = await session.get(Reward, visit.rewards_issued[0].id)
        assert reward is not None
        unlocked = await _reward_name(session, reward, member.locale)
    return StampNotice(member=member, stamps=visit.stamps,
                       stamps_required=visit.stamps_required, unlocked_reward=unlocked)

# Built once: every counter action loads its member, with the identities a
# notification goes to, in this one query.
_MEMBER_WITH_IDENTITIES = (
    select(Member).options(joinedload(Member.identities)).where(Member.id == bindparam("id"))
)


async def _member(session: AsyncSession, member_id: int) -> Member | None:
    result = await session.execute(_MEMBER_WITH_IDENTITIES, {"id": member_id})
    return result.unique().scalar_one_or_none()


async def _reward_name(session: AsyncSession, reward: Reward, locale: str) -> str:
    program = await session.get(Program, reward.program_id)
    assert program is not None
    return reward_name(program, locale)


async def _has_following_identity(session: AsyncSession, member_id: int) -> bool:
    following = exists().where(
        MemberIdentity.member_id == member_id,
        MemberIdentity.following.is_(True),
        Member.id == MemberIdentity.member_id,
        Member.deleted_at.is_(None),
    )
    return bool(await session.scalar(select(following)))


def _visit_message(visit: VisitResult, locale: str) -> str:
    """「已集點 3 / 3 — 可兌換：免費飲料」: a visit that filled the card shows it full."""
    stamps = visit.stamps_required if visit.rewards_issued else visit.stamps
    params = {"stamps": stamps, "required": visit.stamps_required}
    if not visit.rewards_available:
        return t("counter.result.visit", locale, **params)
    return t("counter.result.visit_rewards", locale,
             rewards=_rewards_text(visit.rewards_available, locale), **params)


def _rewards_text(rewards: list[RewardView], locale: str) -> str:
    counted = Tally(reward.name for reward in rewards)
    return t("counter.separator", locale).join(
        name if count == 1 else t("counter.reward_count", locale, reward=name, count=count)
        for name, count in counted.items()
    )


def _void_message(entry: LedgerEntry, locale: str) -> str:
    if entry.kind == "stamp":
        return t("counter.result.void.stamp", locale, stamps=entry.stamps)
    if entry.kind == "reward_redeemed":
        return t("counter.result.void.reward_redeemed", locale)
    return t("counter.result.void.other", locale)
