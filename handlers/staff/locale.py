"""The staff page's language: the staff's own choice (a cookie), else the browser's."""

from fastapi import Request

from core.i18n import SUPPORTED_LOCALES, normalize_locale
from handlers.staff.session import LOCALE_COOKIE


def staff_locale(request: Request, default: str) -> str:
    chosen = request.cookies.get(LOCALE_COOKIE)
    if chosen in SUPPORTED_LOCALES:
        return chosen
    return preferred_locale(request.headers.get("accept-language"), default)


def preferred_locale(accept_language: str | None, default: str) -> str:
    """The supported locale the Accept-Language header ranks highest, else `default`."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.strip().partition(";")
        quality = _quality(params)
        if tag and tag != "*" and quality > 0 and tag.lower()[:2] in ("zh", "en"):
            ranked.append((-quality, position, normalize_locale(tag)))
    return min(ranked)[2] if ranked else default


def _quality(params: str) -> float:
    name, _, value = params.strip().partition("=")
    if name.strip() != "q":
        return 1.0
    try:
        return float(value)
    except ValueError:
        return 0.0
