"""Who may act at a store: a staff account working there, or the store's own POS key.
The HTTP layer authenticates; the services check again so no caller can forget."""

from sqlalchemy.ext.asyncio import AsyncSession

from loyalty.errors import Forbidden, NotFound
from loyalty.models import PosKey, Store
from loyalty.staff import COUNTER_ROLES, require_staff


async def require_store_actor(
    session: AsyncSession,
    *,
    store_id: int,
    staff_id: int | None,
    pos_key_id: int | None,
    roles: tuple[str, ...] = COUNTER_ROLES,
    locale: str = "zh-TW",
) -> Store:
    """The active store, if the staff account (with one of `roles`) or the live POS key
    may act there; Forbidden otherwise. With neither, the caller is the system itself
    (a job, the CLI)."""
    store = await session.get(Store, store_id)
    if store is None:
        raise NotFound(locale)
    if not store.active:
        raise Forbidden(locale)
    if staff_id is not None:
        await require_staff(
            session, staff_id=staff_id, roles=roles, store_id=store_id, locale=locale
        )
    if pos_key_id is not None:
        key = await session.get(PosKey, pos_key_id)
        if key is None or key.revoked_at is not None or key.store_id != store_id:
            raise Forbidden(locale)
    return store
