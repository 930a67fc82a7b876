"""What every console page shares: the viewer, the page frame and its texts, times in
the brand's time zone, RFM segment names and colours, and the reading of query values
(hostile ones are read as "not given", never as an error page)."""

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse

from core.bounds import MAX_ID
from core.i18n import catalog, t
from handlers.staff.pages import PAGE_HEADERS
from handlers.templating import templates

# Segment colours, from "doing well" (greens) to "slipping away" (reds); a segment of a
# custom rule table gets the neutral grey.
SEGMENT_COLOURS = {
    "Champions": "#1b7837",
    "Loyal Customers": "#5aae61",
    "Potential Loyalist": "#a6dba0",
    "New Customers": "#2166ac",
    "Promising": "#67a9cf",
    "Need Attention": "#f6c141",
    "About To Sleep": "#f1a340",
    "At Risk": "#d6604d",
    "Can't Lose Them": "#b2182b",
    "Lost": "#67001f",
}
OTHER_COLOUR = "#9e9e9e"
_DAY_TIME = "%Y/%m/%d %H:%M"
_DAY = "%Y/%m/%d"
_DIGITS = re.compile(r"[0-9]{1,12}")


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in marketer or admin, and how to show them things."""

    staff_id: int  # who tags by hand
    username: str
    role: str
    csrf_token: str  # for every form (and the sign-out)
    locale: str
    timezone: str
    brand_name: str

    @property
    def may_open_counter(self) -> bool:
        return self.role == "admin"

    def text(self, key: str, **params: Any) -> str:
        return t(key, self.locale, **params)

    def when(self, moment: datetime | None) -> str:
        if moment is None:
            return ""
        return moment.astimezone(ZoneInfo(self.timezone)).strftime(_DAY_TIME)

    def day(self, value: date | datetime | None) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = value.astimezone(ZoneInfo(self.timezone)).date()
        return value.strftime(_DAY)

    def segment(self, name: str | None) -> str:
        """A segment's name in the viewer's language (custom segments as they are named)."""
        if name is None:
            return "—"
        key = "console.segment." + re.sub(r"[^a-z]+", "_", name.lower()).strip("_")
        return t(key, self.locale) if key in catalog(self.locale) else name


def segment_colour(name: str | None) -> str:
    return SEGMENT_COLOURS.get(name or "", OTHER_COLOUR)


def _frame(locale: str, brand_name: str) -> dict[str, Any]:
    other_locale = "en" if locale == "zh-TW" else "zh-TW"
    return {
        "t": lambda key, **params: t(key, locale, **params),
        "locale": locale,
        "other_locale": other_locale,
        "other_language": t("staff.language_name", other_locale),
        "brand_name": brand_name,
    }


def render(request: Request, viewer: Viewer, name: str, *, section: str,
           **context: Any) -> HTMLResponse:
    """A console page: the frame (navigation, language, sign-out) around `name`."""
    return templates.TemplateResponse(
        request, f"console/{name}",
        {**_frame(viewer.locale, viewer.brand_name), "viewer": viewer, "section": section,
         "segment_colour": segment_colour, **context},
        headers=PAGE_HEADERS,
    )


def refusal_page(request: Request, locale: str, brand_name: str) -> HTMLResponse:
    """403 for a signed-in account that is not for the console (staff, manager)."""
    return templates.TemplateResponse(
        request, "console/refused.html",
        {**_frame(locale, brand_name), "viewer": None, "section": None,
         "message": t("console.error.not_console_role", locale)},
        status_code=403, headers=PAGE_HEADERS,
    )


def not_found_page(request: Request, viewer: Viewer,
                   message: str = "console.error.member_not_found",
                   section: str = "members") -> HTMLResponse:
    response = render(request, viewer, "refused.html", section=section,
                      message=viewer.text(message))
    response.status_code = 404
    return response


def whole_number(text: str | None, *, low: int, high: int) -> int | None:
    """A number typed in a URL, if it is one within [low, high] (else None)."""
    if text is None or not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None


def row_id(text: str) -> int | None:
    return whole_number(text, low=1, high=MAX_ID)
