"""Who may open the console: an account of CONSOLE_ROLES (marketer, admin) signed in
through the staff page's login (one signed cookie for both). Anyone else is refused
before a page reads anything: anonymous visitors are sent to the login (a script asking
for JSON gets 401), other roles get a 403, in the page or in the one error shape."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import JSONResponse, Response

from core.clock import utcnow
from core.i18n import t
from handlers.console.rendering import Viewer, refusal_page
from handlers.deps import SessionDep, SettingsDep
from handlers.staff.auth import signed_in
from handlers.staff.locale import staff_locale
from handlers.staff.pages import LOGIN, redirect


class ConsoleDenied(Exception):
    """Raised by the access dependency; `console_denied` renders it."""

    def __init__(self, status_code: int, locale: str, brand_name: str) -> None:
        super().__init__(status_code)
        self.status_code = status_code
        self.locale = locale
        self.brand_name = brand_name


async def get_viewer(request: Request, session: SessionDep, settings: SettingsDep) -> Viewer:
    locale = staff_locale(request, settings.default_locale)
    current = await signed_in(request, session, settings, utcnow())
    if current is None:
        raise ConsoleDenied(401, locale, settings.brand_name)
    if not current.sees_console:
        raise ConsoleDenied(403, locale, settings.brand_name)
    return Viewer(current.staff.id, current.staff.username, current.staff.role,
                  current.session.csrf_token,
                  locale, settings.timezone, settings.brand_name)


ViewerDep = Annotated[Viewer, Depends(get_viewer)]


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


async def console_denied(request: Request, exc: Exception) -> Response:
    """The refusal: to the login, or the 403 page; JSON for a script."""
    assert isinstance(exc, ConsoleDenied)
    if _wants_json(request):
        code, key = (("unauthorized", "staff.error.signed_out") if exc.status_code == 401
                     else ("forbidden", "console.error.not_console_role"))
        return JSONResponse({"error": {"code": code, "message": t(key, exc.locale)}},
                            status_code=exc.status_code, headers={"Cache-Control": "no-store"})
    if exc.status_code == 401:
        return redirect(LOGIN)
    return refusal_page(request, exc.locale, exc.brand_name)
