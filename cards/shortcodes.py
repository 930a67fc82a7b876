"""Short human codes for QR tokens, typed at the counter when a camera fails.

Eight characters of a 31-letter alphabet (31^8 ≈ 8.5e11), shown as "K7P4-QX9M". Issuing
is one INSERT (ON CONFLICT DO NOTHING, retried on the rare collision): it sits on the
webhook's hot path, every time a card is sent.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

from cards.codes import UNAMBIGUOUS_ALPHABET, normalize_code, random_code
from cards.models import ShortCode
from cards.tokens import issue_qr_token
from core.db import dialect_insert, rows_changed
from core.errors import TokenExpired, TokenInvalid
from core.i18n import t

SHORT_CODE_LENGTH = 8
_ATTEMPTS = 10


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    short_code: str  # grouped for reading, e.g. "K7P4-QX9M"
    expires_at: datetime


def format_short_code(code: str) -> str:
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


@cache
def _insert_short_code(dialect: str) -> ReturningInsert[str]:
    # Built once per database kind: every card message issues a code.
    return (
        dialect_insert(dialect, ShortCode)
        .on_conflict_do_nothing(index_elements=["code"])
        .returning(ShortCode.code)
    )


async def issue_card_token(
    session: AsyncSession, *, member_id: int, secret_key: str, now: datetime, ttl_seconds: int
) -> IssuedToken:
    """A fresh QR token for the member and the short code that stands for it."""
    issued = issue_qr_token(secret_key, member_id=member_id, now=now, ttl_seconds=ttl_seconds)
    statement = _insert_short_code(session.get_bind().dialect.name)
    for _ in range(_ATTEMPTS):
        code = random_code(SHORT_CODE_LENGTH)
        row = {"code": code, "member_id": member_id, "token": issued.token,
               "expires_at": issued.expires_at}
        if (await session.execute(statement, row)).scalar_one_or_none() is not None:
            return IssuedToken(
                token=issued.token, short_code=format_short_code(code), expires_at=issued.expires_at
            )
    raise RuntimeError("no free short code after repeated attempts")


async def resolve_short_code(session: AsyncSession, *, code: str, now: datetime) -> str:
    """The QR token a typed short code stands for (any case, spaces and dashes allowed).

    Raises TokenInvalid for an unknown code, TokenExpired (naming the member) for an
    expired one."""
    normalized = normalize_code(code)
    if len(normalized) != SHORT_CODE_LENGTH or not set(normalized) <= set(UNAMBIGUOUS_ALPHABET):
        raise TokenInvalid(t("card.error.token_invalid", "en"))
    row = (
        await session.execute(
            select(ShortCode.token, ShortCode.member_id, ShortCode.expires_at).where(
                ShortCode.code == normalized
            )
        )
    ).one_or_none()
    if row is None:
        raise TokenInvalid(t("card.error.token_invalid", "en"))
    token, member_id, expires_at = row
    if now >= expires_at:
        raise TokenExpired(t("card.error.token_expired", "en"), member_id=member_id)
    return token


async def short_code_for_token(session: AsyncSession, *, member_id: int, token: str) -> str | None:
    """The short code issued with `token` (for redrawing an old card image), if still kept."""
    code = await session.scalar(
        select(ShortCode.code).where(ShortCode.member_id == member_id, ShortCode.token == token)
    )
    return format_short_code(code) if code else None


async def purge_expired_short_codes(session: AsyncSession, *, before: datetime) -> int:
    """Delete codes that expired before `before` (a periodic job); returns how many."""
    return await rows_changed(session, delete(ShortCode).where(ShortCode.expires_at < before))
