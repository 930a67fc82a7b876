"""Request dependencies: everything a route gets from the app, declared once.

This is the one module that reads `request.app.state` (filled by app.py at start-up);
routes ask for what they need by type. A route that must answer only after its
transaction commits takes `SessionDep` (committed before the response is sent); one
that does slow work after reading (drawing an image, rendering) takes `DatabaseDep` and
opens a short `db.transaction()` itself, so SQLite's write lock is not held meanwhile.
"""

from collections.abc import AsyncIterator
from typing import Annotated, cast

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from broadcast.notify import Notifier
from core.db import Database
from core.errors import Unauthorized
from core.i18n import preferred_locale, t
from core.settings import Settings
from handlers.inbox import InboxWriter
from handlers.pos_limits import PosLimits
from handlers.processor import EventProcessor
from handlers.staff.limits import StaffLimits
from loyalty.models import PosKey
from loyalty.pos_keys import authenticate_pos_key


# async on purpose: FastAPI runs a plain `def` dependency in a worker thread.
# `app.state` is untyped; app.py stores each of these names with the type cast to here.
async def get_settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


async def get_database(request: Request) -> Database:
    return cast(Database, request.app.state.db)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the route returns, rolled back on error."""
    async with request.app.state.db.transaction() as session:
        yield session


async def get_notifier(request: Request) -> Notifier:
    return cast(Notifier, request.app.state.notifier)


async def get_inbox(request: Request) -> InboxWriter:
    return cast(InboxWriter, request.app.state.inbox)


async def get_processor(request: Request) -> EventProcessor:
    return cast(EventProcessor, request.app.state.processor)


async def get_pos_limits(request: Request) -> PosLimits:
    return cast(PosLimits, request.app.state.pos_limits)


async def get_staff_limits(request: Request) -> StaffLimits:
    return cast(StaffLimits, request.app.state.staff_limits)


async def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def get_locale(
    accept_language: Annotated[str | None, Header(alias="Accept-Language")] = None,
) -> str:
    """The language the API answers in, from Accept-Language."""
    return preferred_locale(accept_language)


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]
# scope="function": commit before the response is sent, never after it.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
NotifierDep = Annotated[Notifier, Depends(get_notifier)]
InboxDep = Annotated[InboxWriter, Depends(get_inbox)]
ProcessorDep = Annotated[EventProcessor, Depends(get_processor)]
PosLimitsDep = Annotated[PosLimits, Depends(get_pos_limits)]
StaffLimitsDep = Annotated[StaffLimits, Depends(get_staff_limits)]
ClientAddressDep = Annotated[str, Depends(client_address)]
LocaleDep = Annotated[str, Depends(get_locale)]

_bearer = HTTPBearer(auto_error=False, description="The store's POS key.")


async def get_pos_key(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    locale: LocaleDep,
) -> PosKey:
    """The store's POS key the request is signed with (Bearer), else 401."""
    key = await authenticate_pos_key(session, credentials.credentials) if credentials else None
    if key is None:
        raise Unauthorized(t("counter.error.unauthorized", locale))
    return key


PosKeyDep = Annotated[PosKey, Depends(get_pos_key)]
