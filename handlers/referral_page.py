"""The invite link a member shares: a landing page that opens the brand's chat with the
referral code attached (Messenger: m.me ref; LINE: a prefilled "invite code" message)."""

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from cards.service import member_by_referral_code
from core.errors import NotFound
from core.i18n import preferred_locale, t
from handlers.deps import SessionDep, SettingsDep
from handlers.templating import templates

router = APIRouter(tags=["pages"])


@router.get("/r/{code}", response_class=HTMLResponse, include_in_schema=False)
async def referral_landing(request: Request, code: str, session: SessionDep,
                           settings: SettingsDep) -> HTMLResponse:
    referrer = await member_by_referral_code(session, code.upper())
    if referrer is None or referrer.deleted_at is not None:
        raise NotFound("unknown invite code", code="referral_unknown")
    locale = preferred_locale(request.headers.get("accept-language"))
    prefilled = quote(t("referral.prefill", locale, code=referrer.referral_code))
    links = {
        "line": f"https://line.me/R/oaMessage/{quote(settings.line_bot_basic_id)}/?{prefilled}",
        "messenger": f"https://m.me/{settings.messenger_page_username}?ref={referrer.referral_code}",
    }
    if settings.sandbox:
        links = {platform: f"/simulator/?platform={platform}&ref={referrer.referral_code}"
                 for platform in links}
    return templates.TemplateResponse(request, "referral.html", {
        "t": lambda key, **kw: t(key, locale, brand=settings.brand_name, **kw),
        "links": links, "code": referrer.referral_code, "color": settings.brand_color,
        "lang": locale,
    })
