"""Members and their platform identities: joining, following, consent, erasure, linking."""

import hashlib
import hmac
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import bindparam, delete, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from cards.codes import new_member_key, normalize_code, random_code
from cards.errors import (
    LinkCodeExpired,
    LinkCodeInvalid,
    LinkCodeUsed,
    LinkSamePlatform,
    MemberKeyUnknown,
)
from cards.models import (
    DISPLAY_NAME_LENGTH,
    ErasedIdentity,
    LinkCode,
    Member,
    MemberIdentity,
    ShortCode,
)
from core.clock import utcnow
from core.db import insert_for, rows_changed
from core.i18n import normalize_locale
from core.signing import derive_key

REFERRAL_CODE_LENGTH = 8
LINK_CODE_DIGITS = 6
# last_inbound_at only needs minute precision (it opens Messenger's 24-hour window), so
# a chatty member does not cost an UPDATE per message. Lagging errs on the safe side:
# the window is believed to close slightly earlier than it does.
INBOUND_TOUCH_INTERVAL = timedelta(seconds=60)
_CODE_ATTEMPTS = 20
# A link's message (a store's or a friend's) counts for how a member joined when it
# arrives this soon after the follow: LINE delivers the follow first, then the text.
JOIN_ATTRIBUTION_WINDOW = timedelta(minutes=30)
# Members who joined by following in a chat, not yet attributed to a link or an import.
CHAT_JOIN_SOURCES = ("line", "messenger")


@dataclass(frozen=True, slots=True)
class JoinResult:
    member: Member
    identity: MemberIdentity
    created: bool  # a new member row (also true for a rejoined person)
    rejoined: bool  # this identity was erased before: no second welcome, no referral


# Built once: every inbound chat event starts here.
_IDENTITY_WITH_MEMBER = (
    select(MemberIdentity)
    .options(joinedload(MemberIdentity.member).joinedload(Member.identities))
    .where(
        MemberIdentity.platform == bindparam("platform"),
        MemberIdentity.platform_user_id == bindparam("platform_user_id"),
    )
)


async def find_identity(
    session: AsyncSession, *, platform: str, platform_user_id: str
) -> MemberIdentity | None:
    """The identity with its member (and the member's identities) loaded, in one query."""
    result = await session.execute(
        _IDENTITY_WITH_MEMBER, {"platform": platform, "platform_user_id": platform_user_id}
    )
    return result.unique().scalar_one_or_none()


async def following_identities(
    session: AsyncSession, keys: Collection[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Which of the (platform, platform user id) pairs are identities that follow us."""
    rows = await session.execute(
        select(MemberIdentity.platform, MemberIdentity.platform_user_id).where(
            tuple_(MemberIdentity.platform, MemberIdentity.platform_user_id).in_(list(keys)),
            MemberIdentity.following.is_(True),
        )
    )
    return {(platform, user_id) for platform, user_id in rows.all()}


async def join_member(
    session: AsyncSession,
    *,
    platform: str,
    platform_user_id: str,
    display_name: str | None,
    locale: str | None,
    secret_key: str,
    referral_code: str | None = None,
    now: datetime | None = None,
) -> JoinResult:
    """Get or create the member for a platform identity (a follow, a Get Started).

    A returning follower is the same member, following again. A person whose data was
    erased and who comes back is a new member marked `rejoined` (recognised by a keyed
    digest of the old identity). `referral_code` links the referrer unless it is the
    member's own code, the member is rejoined, or a referrer is already set."""
    now = now or utcnow()
    display_name = storable_name(display_name)
    identity = await find_identity(session, platform=platform, platform_user_id=platform_user_id)
    created = rejoined = False
    if identity is None:
        rejoined = await _was_erased(session, secret_key, platform, platform_user_id)
        identity = await _create_member(
            session,
            platform=platform,
            platform_user_id=platform_user_id,
            display_name=display_name,
            locale=locale,
            now=now,
        )
        created = identity is not None
        if identity is None:  # a concurrent join of the same identity won the race
            identity = await find_identity(
                session, platform=platform, platform_user_id=platform_user_id
            )
            assert identity is not None
            rejoined = False
    else:
        _follow_again(identity, display_name, now)
    member = identity.member
    if referral_code:
        # A person erased before never gets a referrer, whenever the code arrives.
        erased_before = (
            rejoined
            if created
            else await _was_erased(session, secret_key, platform, platform_user_id)
        )
        if not erased_before:
            await _link_referrer(session, member, referral_code)
    await session.flush()
    return JoinResult(member=member, identity=identity, created=created, rejoined=rejoined)


def storable_name(name: str | None) -> str | None:
    """A profile name as the members table can hold it: within its column, and without
    NUL, which PostgreSQL text refuses. (Drawing has its own rules: cards.design.)"""
    if name is None:
        return None
    return name.replace("\x00", "")[:DISPLAY_NAME_LENGTH] or None


async def _create_member(
    session: AsyncSession,
    *,
    platform: str,
    platform_user_id: str,
    display_name: str | None,
    locale: str | None,
    now: datetime,
) -> MemberIdentity | None:
    member = Member(
        display_name=display_name,
        locale=normalize_locale(locale),
        marketing_opt_in=False,
        card_key=new_card_key(),
        referral_code=await _unused_referral_code(session),
        joined_at=now,
        join_source=platform,
    )
    identity = MemberIdentity(
        platform=platform,
        platform_user_id=platform_user_id,
        following=True,
        followed_at=now,
        member=member,
    )
    try:
        async with session.begin_nested():
            session.add(member)
    except IntegrityError:
        return None
    return identity


def _follow_again(identity: MemberIdentity, display_name: str | None, now: datetime) -> None:
    if not identity.following:
        identity.following = True
        identity.followed_at = now
        identity.unfollowed_at = None
    if display_name and identity.member.display_name != display_name:
        identity.member.display_name = display_name


async def apply_referral(
    session: AsyncSession, *, member: Member, code: str, secret_key: str
) -> bool:
    """Link the member to the owner of a referral code typed after joining (LINE's
    prefilled invite message). The same rules as at join: refused for the member's own
    code, an unknown code, a member who already has a referrer, or a rejoined person.
    Returns whether the referrer was set. (Rewards are the loyalty engine's: it pays on
    the referred member's first visit, so a late claim by a regular earns nothing.)"""
    for identity in member.identities:
        if await _was_erased(session, secret_key, identity.platform, identity.platform_user_id):
            return False
    linked = await _link_referrer(session, member, code)
    await session.flush()
    return linked


async def _link_referrer(session: AsyncSession, member: Member, referral_code: str) -> bool:
    if member.referred_by_member_id is not None:
        return False
    referrer = await member_by_referral_code(session, referral_code)
    if referrer is None or referrer.id == member.id:
        return False
    member.referred_by_member_id = referrer.id
    return True


async def attribute_join(
    session: AsyncSession,
    *,
    member: Member,
    source: str,
    store_id: int | None = None,
    now: datetime,
) -> bool:
    """Record that the member came through a link (`source` 'referral' or 'store_link',
    with the store's id) when the link's message arrives just after the follow, as LINE
    sends it (a follow, then the prefilled text). Only a member who joined through a
    chat platform within JOIN_ATTRIBUTION_WINDOW is attributed, once; returns whether
    this one was. The store id is the caller's to check (stores are loyalty's)."""
    fresh = now - member.joined_at <= JOIN_ATTRIBUTION_WINDOW
    if member.join_source not in CHAT_JOIN_SOURCES or not fresh or member.deleted_at:
        return False
    member.join_source = source
    member.join_store_id = store_id
    await session.flush()
    return True


async def mark_unfollowed(
    session: AsyncSession, *, platform: str, platform_user_id: str, now: datetime
) -> MemberIdentity | None:
    """An unfollow or block: nothing more is sent to this identity until it follows again."""
    identity = await find_identity(session, platform=platform, platform_user_id=platform_user_id)
    if identity is not None and identity.following:
        identity.following = False
        identity.unfollowed_at = now
        await session.flush()
    return identity


async def touch_inbound(session: AsyncSession, identity: MemberIdentity, now: datetime) -> None:
    """Record that the person just wrote to us (opens Messenger's 24-hour window).
    Cheap: at most one UPDATE a minute per identity."""
    last = identity.last_inbound_at
    if last is None or now - last >= INBOUND_TOUCH_INTERVAL:
        identity.last_inbound_at = now
        await session.flush()


async def set_marketing_consent(
    session: AsyncSession, *, member: Member, opted_in: bool, now: datetime
) -> None:
    """The member's answer to "send me offers", with when it was given."""
    member.marketing_opt_in = opted_in
    member.marketing_consent_at = now
    await session.flush()


async def set_birthday(session: AsyncSession, *, member: Member, birthday: date) -> None:
    """The birthday the member chose to give (for the birthday reward)."""
    member.birthday = birthday
    await session.flush()


async def set_locale(session: AsyncSession, *, member: Member, locale: str) -> None:
    """The language the member chose (normalised onto a supported one)."""
    member.locale = normalize_locale(locale)
    await session.flush()


def erased_identity_digest(secret_key: str, platform: str, platform_user_id: str) -> str:
    """A keyed digest of an identity: recognisable if it returns, useless if leaked."""
    key = derive_key(secret_key, "erased-identity")
    return hmac.new(key, f"{platform}:{platform_user_id}".encode(), hashlib.sha256).hexdigest()


async def _was_erased(
    session: AsyncSession, secret_key: str, platform: str, platform_user_id: str
) -> bool:
    digest = erased_identity_digest(secret_key, platform, platform_user_id)
    found = await session.scalar(
        select(ErasedIdentity.id).where(
            ErasedIdentity.platform == platform, ErasedIdentity.digest == digest
        )
    )
    return found is not None


async def erase_member(
    session: AsyncSession, *, member: Member, secret_key: str, now: datetime
) -> None:
    """Erase the member's personal data. The row stays, anonymous, so the ledger that
    points at it keeps reports true; its identities are deleted, leaving only a keyed
    digest so a returning person is recognised as rejoined."""
    for identity in member.identities:
        digest = erased_identity_digest(secret_key, identity.platform, identity.platform_user_id)
        await session.execute(
            insert_for(session, ErasedIdentity)
            .values(platform=identity.platform, digest=digest, erased_at=now)
            .on_conflict_do_nothing(index_elements=["platform", "digest"])
        )
    member.identities.clear()
    member.display_name = None
    member.birthday = None
    member.phone = None
    member.marketing_opt_in = False
    member.marketing_consent_at = now
    member.card_key = new_card_key()
    # An imported customer id would tie the anonymous row back to the shop's records.
    member.member_key = new_member_key()
    member.referral_code = await _unused_referral_code(session)
    member.deleted_at = now
    await session.execute(delete(ShortCode).where(ShortCode.member_id == member.id))
    await session.execute(delete(LinkCode).where(LinkCode.member_id == member.id))
    await session.flush()


async def create_link_code(
    session: AsyncSession, *, member: Member, now: datetime, ttl_seconds: int
) -> str:
    """A one-time 6-digit code to type in the other channel; unique among live codes.
    A code that is used or expired is recycled, so the small space never fills up."""
    expires_at = now + timedelta(seconds=ttl_seconds)
    for _ in range(_CODE_ATTEMPTS):
        code = f"{secrets.randbelow(10**LINK_CODE_DIGITS):0{LINK_CODE_DIGITS}d}"
        statement = (
            insert_for(session, LinkCode)
            .values(code=code, member_id=member.id, expires_at=expires_at, used_at=None)
            .on_conflict_do_update(
                index_elements=["code"],
                set_={"member_id": member.id, "expires_at": expires_at, "used_at": None},
                where=(LinkCode.expires_at <= now) | LinkCode.used_at.is_not(None),
            )
            .returning(LinkCode.code)
        )
        if (await session.execute(statement)).scalar_one_or_none() is not None:
            return code
    raise RuntimeError("no free link code after repeated attempts")


async def redeem_link_code(
    session: AsyncSession, *, code: str, identity: MemberIdentity, now: datetime
) -> Member:
    """Move `identity` (where the code was typed) onto the code's member (where it was
    shown). The identity's old member, left without identities, is marked deleted: it
    was only just created by the follow. Exactly one of two concurrent redemptions wins."""
    digits = normalize_code(code)
    if len(digits) != LINK_CODE_DIGITS or not digits.isdigit():
        raise LinkCodeInvalid()
    link = await session.get(LinkCode, digits)
    if link is None:
        raise LinkCodeInvalid()
    target = await session.get(Member, link.member_id)
    if target is None or target.deleted_at is not None:
        raise LinkCodeInvalid()
    if link.used_at is not None:
        raise LinkCodeUsed()
    if link.expires_at <= now:
        raise LinkCodeExpired()
    if any(existing.platform == identity.platform for existing in target.identities):
        raise LinkSamePlatform()
    claimed = await rows_changed(
        session,
        update(LinkCode)
        .where(LinkCode.code == digits, LinkCode.used_at.is_(None), LinkCode.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False),
    )
    if claimed != 1:
        raise LinkCodeUsed()
    link.used_at = now
    await _move_identity(session, identity, target, now)
    return target


async def link_identity_by_member_key(
    session: AsyncSession, *, member_key: str, identity: MemberIdentity, now: datetime
) -> Member:
    """Move a chat identity onto the member a key names: how a member imported from the
    shop's history (who has no chat identity) gets the chat of the person who joined,
    once staff or the console have matched the two (say, by the POS customer id). The
    same rules as a link code: refused for an unknown or erased key
    (member_key_unknown) and for a member already on that platform
    (link_same_platform)."""
    target = await session.scalar(
        select(Member).where(Member.member_key == member_key, Member.deleted_at.is_(None))
    )
    if target is None:
        raise MemberKeyUnknown()
    if target.id == identity.member_id:
        return target
    if any(existing.platform == identity.platform for existing in target.identities):
        raise LinkSamePlatform()
    await _move_identity(session, identity, target, now)
    return target


async def _move_identity(
    session: AsyncSession, identity: MemberIdentity, target: Member, now: datetime
) -> None:
    """The identity now belongs to `target`. Its old member, left without identities, is
    marked deleted: it was only just created by the follow."""
    previous = identity.member
    identity.member = target
    if not previous.identities:
        previous.deleted_at = now
        previous.display_name = None
        previous.marketing_opt_in = False
    await session.flush()


async def member_by_card_key(session: AsyncSession, card_key: str) -> Member | None:
    """The live member whose card page this key opens."""
    return await session.scalar(
        select(Member).where(Member.card_key == card_key, Member.deleted_at.is_(None))
    )


async def member_by_referral_code(session: AsyncSession, code: str) -> Member | None:
    """The live member who owns a referral code (typed in any case, with or without dashes)."""
    return await session.scalar(
        select(Member).where(
            Member.referral_code == normalize_code(code), Member.deleted_at.is_(None)
        )
    )


def new_card_key() -> str:
    return secrets.token_urlsafe(24)


async def _unused_referral_code(session: AsyncSession) -> str:
    # The unique constraint is the guarantee; checking first makes a collision (rare in
    # 31^8 codes) cost a retry instead of a failed transaction.
    for _ in range(_CODE_ATTEMPTS):
        code = random_code(REFERRAL_CODE_LENGTH)
        taken = await session.scalar(select(Member.id).where(Member.referral_code == code))
        if taken is None:
            return code
    raise RuntimeError("no free referral code after repeated attempts")
