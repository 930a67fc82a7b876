"""The staff page's language: the staff's own choice (a cookie), else the browser's."""

from fastapi import Request

from core.i18n import SUPPORTED_LOCALES, preferred_locale
from handlers.staff.session import LOCALE_COOKIE


def staff_locale(request: Request, default: str) -> str:
    chosen = request.cookies.get(LOCALE_COOKIE)
    if chosen in SUPPORTED_LOCALES:
        return chosen
    return preferred_locale(request.headers.get("accept-language"), default)
