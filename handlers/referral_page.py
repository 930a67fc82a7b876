"""The landing pages of the links that bring people to the chat: a member's invite link
(/r/<code>) and a store's join link (/j/<store id>, the QR on its counter). Each opens
the brand's chat with its code attached: Messenger as the m.me ref, LINE as a prefilled
message ("invite code ...", "store ...")."""

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from cards.service import member_by_referral_code
from core.bounds import DbId
from core.errors import NotFound
from core.i18n import preferred_locale, t
from core.settings import Settings
from handlers.deps import SessionDep, SettingsDep
from handlers.templating import templates
from loyalty.join_links import active_store, store_ref

router = APIRouter(tags=["pages"])


def chat_links(settings: Settings, *, prefilled: str, ref: str) -> dict[str, str]:
    """Where the link's buttons go: LINE's chat with the text typed in, Messenger's with
    the ref (the sandbox's simulator when there are no real platforms)."""
    if settings.sandbox:
        return {platform: f"/simulator/?platform={platform}&ref={quote(ref)}"
                for platform in ("line", "messenger")}
    return {
        "line": f"https://line.me/R/oaMessage/{quote(settings.line_bot_basic_id)}/"
                f"?{quote(prefilled)}",
        "messenger": f"https://m.me/{settings.messenger_page_username}?ref={quote(ref)}",
    }


def store_link_url(settings: Settings, store_id: int) -> str:
    return f"{settings.public_base_url.rstrip('/')}/j/{store_id}"


@router.get("/r/{code}", response_class=HTMLResponse, include_in_schema=False)
async def referral_landing(request: Request, code: str, session: SessionDep,
                           settings: SettingsDep) -> HTMLResponse:
    referrer = await member_by_referral_code(session, code.upper())
    if referrer is None or referrer.deleted_at is not None:
        raise NotFound("unknown invite code", code="referral_unknown")
    locale = preferred_locale(request.headers.get("accept-language"))
    links = chat_links(settings, ref=referrer.referral_code,
                       prefilled=t("referral.prefill", locale, code=referrer.referral_code))
    return _landing(request, settings, locale, links=links, code=referrer.referral_code,
                    title=t("referral.title", locale, brand=settings.brand_name),
                    lead=t("referral.lead", locale))


@router.get("/j/{store_id}", response_class=HTMLResponse, include_in_schema=False)
async def store_landing(request: Request, store_id: DbId, session: SessionDep,
                        settings: SettingsDep) -> HTMLResponse:
    store = await active_store(session, store_id)
    if store is None:
        raise NotFound("unknown store", code="store_unknown")
    locale = preferred_locale(request.headers.get("accept-language"))
    links = chat_links(settings, ref=store_ref(store.id),
                       prefilled=t("store_link.prefill", locale, store_id=store.id))
    return _landing(request, settings, locale, links=links, code=None,
                    title=t("store_link.title", locale, brand=settings.brand_name),
                    lead=t("store_link.lead", locale, store=store.name))


def _landing(request: Request, settings: Settings, locale: str, *, links: dict[str, str],
             code: str | None, title: str, lead: str) -> HTMLResponse:
    return templates.TemplateResponse(request, "referral.html", {
        "t": lambda key, **kw: t(key, locale, brand=settings.brand_name, **kw),
        "links": links, "code": code, "color": settings.brand_color, "lang": locale,
        "title": title, "lead": lead,
    })
