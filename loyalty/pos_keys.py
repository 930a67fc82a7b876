"""Store API keys for POS systems: shown once, stored hashed, revocable.

The plaintext is `<prefix>.<secret>`. The prefix finds the row through a unique index;
the secret is checked against its SHA-256. A slow hash (argon2) protects guessable
passwords; this secret is 256 random bits, so a fast hash is already infeasible to
reverse, and argon2 on every POS request would cost ~50 ms of CPU each and hand anyone
with garbage keys a cheap way to load the server."""

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager

from core.clock import utcnow
from loyalty.errors import NotFound
from loyalty.models import PosKey, Store

PREFIX_BYTES = 6
SECRET_BYTES = 32


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def issue_pos_key(
    session: AsyncSession, *, store_id: int, locale: str = "zh-TW"
) -> tuple[PosKey, str]:
    """A new key for the store and its plaintext, which is never stored or shown again."""
    if await session.get(Store, store_id) is None:
        raise NotFound(locale)
    prefix = secrets.token_hex(PREFIX_BYTES)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    key = PosKey(store_id=store_id, prefix=prefix, secret_sha256=_digest(secret))
    session.add(key)
    await session.flush()
    return key, f"{prefix}.{secret}"


# Built once: every POS request starts here.
_KEY_WITH_STORE = (
    select(PosKey)
    .join(PosKey.store)
    .options(contains_eager(PosKey.store))
    .where(PosKey.prefix == bindparam("prefix"))
)


async def authenticate_pos_key(session: AsyncSession, plaintext: str) -> PosKey | None:
    """The live key (not revoked, store active) this plaintext belongs to, else None.
    The key comes with its store loaded (`key.store`)."""
    prefix, dot, secret = plaintext.strip().partition(".")
    if not dot or not prefix or not secret:
        return None
    key = (await session.execute(_KEY_WITH_STORE, {"prefix": prefix})).scalar_one_or_none()
    if key is None:
        return None
    if not hmac.compare_digest(key.secret_sha256, _digest(secret)):
        return None
    if key.revoked_at is not None or not key.store.active:
        return None
    return key


async def revoke_pos_key(
    session: AsyncSession, *, pos_key_id: int, now: datetime | None = None, locale: str = "zh-TW"
) -> PosKey:
    """Revokes the key from now on (its past ledger entries keep pointing at it)."""
    key = await session.get(PosKey, pos_key_id)
    if key is None:
        raise NotFound(locale)
    if key.revoked_at is None:
        key.revoked_at = now or utcnow()
        await session.flush()
    return key
