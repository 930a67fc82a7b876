"""The member's card on the web: the drawn card image sent in chat, and the live card
page (a LIFF page on LINE, a webview on Messenger) whose QR refreshes before it expires."""

import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from cards.design import (
    brand_rgb,
    card_design,
    css_hex,
    ink_on,
    member_name_shown,
    progress_texts,
)
from cards.image import draw_card
from cards.models import Member
from cards.qr import qr_svg
from cards.service import member_by_card_key
from cards.shortcodes import issue_card_token, short_code_for_token
from cards.tokens import read_qr_token
from core.clock import utcnow
from core.errors import NotFound, TokenInvalid, error_responses
from core.i18n import t
from core.settings import Settings
from handlers.deps import DatabaseDep, LocaleDep, SettingsDep
from handlers.templating import templates
from loyalty.member_card import member_card

_HERE = Path(__file__).parent
# Card keys are secrets.token_urlsafe output.
_CARD_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")
# Short, so a stamp added at the counter shows on a card image reopened a minute later.
IMAGE_CACHE_CONTROL = "private, max-age=60"
NO_STORE = {"Cache-Control": "no-store"}
TOKEN_FIELDS = (
    "token",
    "short_code",
    "expires_at",
    "expires_in",
    "ttl_seconds",
    "qr_svg",
    "stamps",
    "stamps_required",
    "progress_label",
    "reward_label",
)


@lru_cache
def _inline_asset(name: str) -> Markup:
    # Inlined, not linked: the page then opens in one request and keeps working offline.
    return Markup((_HERE / "static" / name).read_text(encoding="utf-8"))


router = APIRouter(tags=["card"])


@router.get("/c/{token}.png", include_in_schema=False)
async def card_image(token: str, db: DatabaseDep, settings: SettingsDep) -> Response:
    """The drawn card for a QR token. An expired but authentic token still renders
    (the image in the chat history must not break); the counter refuses it."""
    try:
        claims = read_qr_token(settings.secret_key, token)
    except TokenInvalid:
        return Response(status_code=404)
    async with db.transaction() as session:
        member = await session.get(Member, claims.member_id)
        if member is None or member.deleted_at is not None:
            return Response(status_code=404)
        state = await member_card(session, member_id=member.id, locale=member.locale)
        short_code = await short_code_for_token(session, member_id=member.id, token=token)
    design = card_design(
        brand_name=settings.brand_name,
        brand_color=settings.brand_color,
        member_name=member.display_name,
        tier=state.tier,
        stamps=state.stamps,
        stamps_required=state.stamps_required,
        stamps_remaining=state.stamps_remaining,
        reward_name=state.reward_name,
        qr_data=token,
        short_code=short_code or "",
        locale=member.locale,
    )
    png = await run_in_threadpool(draw_card, design)
    return Response(png, media_type="image/png", headers={"Cache-Control": IMAGE_CACHE_CONTROL})


@router.get("/card", include_in_schema=False)
async def liff_entry(request: Request, settings: SettingsDep) -> Response:
    """LINE opens a LIFF URL's path as `?liff.state=/<card_key>` on the endpoint URL."""
    card_key = request.query_params.get("liff.state", "").split("?")[0].strip("/")
    if not _CARD_KEY.fullmatch(card_key):
        return _not_found_page(request, settings.default_locale)
    return RedirectResponse(f"/card/{card_key}", status_code=302)


@router.get("/card/{card_key}", response_class=HTMLResponse, responses={
    404: {"description": "No such card: a page saying so.", "content": {"text/html": {}}}})
async def card_page(
    card_key: str, request: Request, db: DatabaseDep, settings: SettingsDep
) -> Response:
    """The live card page: the card, a QR that refreshes before it expires, the short
    code, stamp progress."""
    async with db.transaction() as session:
        member = await member_by_card_key(session, card_key)
        if member is None:
            return _not_found_page(request, settings.default_locale)
        live = await _live_card(session, member, settings, utcnow())
    brand = brand_rgb(settings.brand_color)
    context = {
        "t": t,
        "found": True,
        "locale": member.locale,
        "brand_name": settings.brand_name,
        "brand_color": css_hex(brand),
        "brand_ink": css_hex(ink_on(brand)),
        "member_name": member_name_shown(member.display_name, member.locale),
        "css": _inline_asset("card_page.css"),
        "js": _inline_asset("card_page.js"),
        **live,
    }
    context["page_state"] = {
        "token_url": f"/card/{card_key}/token",
        "expires_in": live["expires_in"],
        "ttl_seconds": live["ttl_seconds"],
        "offline_text": t("card.page.offline", member.locale),
        "expired_text": t("card.page.expired", member.locale),
    }
    return templates.TemplateResponse(request, "card_page.html", context, headers=NO_STORE)


@router.get("/card/{card_key}/token", responses=error_responses(404))
async def card_token(
    card_key: str, db: DatabaseDep, settings: SettingsDep, locale: LocaleDep
) -> JSONResponse:
    """A fresh QR token for the card page, with its short code and the stamp count."""
    async with db.transaction() as session:
        member = await member_by_card_key(session, card_key)
        if member is None:
            raise NotFound(t("errors.not_found", locale))
        live = await _live_card(session, member, settings, utcnow())
    return JSONResponse({name: live[name] for name in TOKEN_FIELDS}, headers=NO_STORE)


async def _live_card(
    session: AsyncSession, member: Member, settings: Settings, now: datetime
) -> dict[str, Any]:
    """Everything the page shows that changes: a new token and the stamp state."""
    issued = await issue_card_token(
        session,
        member_id=member.id,
        secret_key=settings.secret_key,
        now=now,
        ttl_seconds=settings.qr_token_ttl_seconds,
    )
    state = await member_card(session, member_id=member.id, locale=member.locale, now=now)
    progress, reward = progress_texts(
        stamps=state.stamps,
        stamps_required=state.stamps_required,
        stamps_remaining=state.stamps_remaining,
        reward_name=state.reward_name,
        locale=member.locale,
    )
    return {
        "token": issued.token,
        "short_code": issued.short_code,
        "expires_at": issued.expires_at.isoformat(),
        # Relative, so a phone whose clock is off still refreshes on time.
        "expires_in": max(int((issued.expires_at - now).total_seconds()), 0),
        "ttl_seconds": settings.qr_token_ttl_seconds,
        "qr_svg": qr_svg(issued.token),
        "stamps": state.stamps,
        "stamps_required": state.stamps_required,
        "progress_label": progress,
        "reward_label": reward,
        "tier": state.tier or t("card.tier_default", member.locale),
        "rewards_available": [available.name for available in state.rewards_available],
    }


def _not_found_page(request: Request, locale: str) -> Response:
    context = {"t": t, "found": False, "locale": locale, "css": _inline_asset("card_page.css")}
    return templates.TemplateResponse(
        request, "card_page.html", context, status_code=404, headers=NO_STORE
    )
