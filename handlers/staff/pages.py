"""The staff page's screens: log in, choose the store, the counter, log out, language."""

import hmac
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from core.clock import utcnow
from core.i18n import SUPPORTED_LOCALES, t
from core.settings import Settings
from handlers.deps import ClientAddressDep, DatabaseDep, SettingsDep, StaffLimitsDep
from handlers.ratelimit import TooManyAttempts
from handlers.staff.api import MAX_ADJUSTMENT
from handlers.staff.auth import AtCounter, chosen_store, signed_in, stores_for
from handlers.staff.locale import staff_locale
from handlers.staff.session import (
    COOKIE_PATH,
    LOCALE_COOKIE,
    LOGIN_CSRF_COOKIE,
    clear_session_cookie,
    new_session,
    secure_cookies,
    set_login_csrf_cookie,
    set_session_cookie,
)
from handlers.templating import templates
from loyalty.staff import CONSOLE_ROLES, authenticate_staff

HOME = "/staff/"
CONSOLE_HOME = "/console/"
LOGIN = "/staff/login"
CHOOSE_STORE = "/staff/store"
NO_STORE = {"Cache-Control": "no-store"}
# Pages are never framed: a framed counter could be tricked into a tap on 「集點 +1」.
PAGE_HEADERS = {
    **NO_STORE,
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}
# The amount is typed in the currency's major unit and stored in minor units (ISO 4217
# gives TWD, like most currencies, two decimals).
MINOR_UNITS_PER_UNIT = 100


def page_locale(request: Request, settings: Settings) -> str:
    return staff_locale(request, settings.default_locale)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=NO_STORE)


def render(
    request: Request, settings: Settings, name: str, locale: str, *, status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    other_locale = "en" if locale == "zh-TW" else "zh-TW"
    return templates.TemplateResponse(
        request,
        f"staff/{name}",
        {
            "t": lambda key, **params: t(key, locale, **params),
            "locale": locale,
            "other_locale": other_locale,
            "other_language": t("staff.language_name", other_locale),
            "brand_name": settings.brand_name,
            "brand_color": settings.brand_color,
            **context,
        },
        status_code=status_code,
        headers=PAGE_HEADERS,
    )


router = APIRouter(prefix="/staff", include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def counter_page(request: Request, settings: SettingsDep, db: DatabaseDep) -> Response:
    """The counter: camera, typed code, member panel, recent actions."""
    async with db.transaction() as session:
        current = await signed_in(request, session, settings, utcnow())
        if current is None:
            return redirect(LOGIN)
        if not current.works_counter:
            return not_at_counter(request, settings)
        store = await chosen_store(session, current)
        if store is None:
            return redirect(CHOOSE_STORE)
        store_count = len(await stores_for(session, current.staff))
    at = AtCounter(current.session, current.staff, store)
    locale = page_locale(request, settings)
    config = {
        "csrfToken": current.session.csrf_token,
        "minorUnits": MINOR_UNITS_PER_UNIT,
        "texts": _script_texts(locale),
    }
    return render(
        request,
        settings,
        "counter.html",
        locale,
        staff=current.staff,
        store=store,
        may_switch_store=store_count > 1,
        may_adjust=at.may_adjust,
        max_adjustment=MAX_ADJUSTMENT,
        may_see_report=at.may_see_report,
        may_open_console=current.sees_console,
        csrf_token=current.session.csrf_token,
        config=config,
    )


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, settings: SettingsDep) -> Response:
    return _login_form(request, settings, page_locale(request, settings))


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=200)],
    settings: SettingsDep,
    db: DatabaseDep,
    limits: StaffLimitsDep,
    address: ClientAddressDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Sign in with username and password; rate limited per account and per address."""
    locale = page_locale(request, settings)
    expected_csrf = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected_csrf or not hmac.compare_digest(csrf.encode(), expected_csrf.encode()):
        return _login_form(request, settings, locale, error="staff.error.form_expired",
                           status_code=403)
    try:
        limits.check_login(username=username, address=address, locale=locale)
    except TooManyAttempts as refusal:
        return _login_form(request, settings, locale, message=refusal.message, status_code=429,
                           username=username)
    async with db.transaction() as session:
        staff = await authenticate_staff(session, username=username, password=password)
        if staff is None:
            return _login_form(request, settings, locale, error="staff.login.failed",
                               status_code=401, username=username)
        limits.login_succeeded(username=username, address=address)
        stores = await stores_for(session, staff)
        # Marketers need no store; an admin lands on the console and may open the counter.
        console = staff.role in CONSOLE_ROLES
        if not stores and not console:
            return _login_form(request, settings, locale, error="staff.login.no_store",
                               status_code=403, username=username)
        staff_session = new_session(
            staff_id=staff.id, password_hash=staff.password_hash, now=utcnow()
        )
    if len(stores) == 1:
        staff_session = staff_session.with_store(stores[0].id)
    if console:
        response = redirect(CONSOLE_HOME)
    else:
        response = redirect(HOME if staff_session.store_id else CHOOSE_STORE)
    set_session_cookie(response, settings, staff_session)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=COOKIE_PATH)
    return response


@router.get("/store", response_class=HTMLResponse)
async def store_page(request: Request, settings: SettingsDep, db: DatabaseDep) -> Response:
    """Where are you working today? (for accounts at several stores)"""
    async with db.transaction() as session:
        current = await signed_in(request, session, settings, utcnow())
        if current is None:
            return redirect(LOGIN)
        if not current.works_counter:
            return not_at_counter(request, settings)
        stores = await stores_for(session, current.staff)
    return render(request, settings, "store.html", page_locale(request, settings), stores=stores,
                  staff=current.staff, csrf_token=current.session.csrf_token)


@router.post("/store")
async def choose_store(
    request: Request,
    store_id: Annotated[int, Form()],
    settings: SettingsDep,
    db: DatabaseDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    async with db.transaction() as session:
        current = await signed_in(request, session, settings, utcnow())
        if current is None:
            return redirect(LOGIN)
        if not current.works_counter:
            return not_at_counter(request, settings)
        if not current.session.csrf_matches(csrf):
            return forbidden(request, settings)
        allowed = {store.id for store in await stores_for(session, current.staff)}
    if store_id not in allowed:
        return forbidden(request, settings, "loyalty.error.forbidden")
    response = redirect(HOME)
    set_session_cookie(response, settings, current.session.with_store(store_id))
    return response


@router.post("/logout")
async def logout(
    request: Request, settings: SettingsDep, db: DatabaseDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    async with db.transaction() as session:
        current = await signed_in(request, session, settings, utcnow())
    if current is not None and not current.session.csrf_matches(csrf):
        return forbidden(request, settings)
    response = redirect(LOGIN)
    clear_session_cookie(response, settings)
    return response


@router.get("/lang/{locale}")
async def choose_language(request: Request, locale: str, settings: SettingsDep) -> Response:
    """The staff's language, remembered on this phone for a year."""
    target = request.query_params.get("next", HOME)
    # Only back into the staff page or the console: never an open redirect.
    if not target.startswith((HOME, CONSOLE_HOME)):
        target = HOME
    response = redirect(target)
    if locale in SUPPORTED_LOCALES:
        response.set_cookie(LOCALE_COOKIE, locale, max_age=365 * 86400, path=COOKIE_PATH,
                            samesite="lax", secure=secure_cookies(settings))
    return response


def _login_form(
    request: Request,
    settings: Settings,
    locale: str,
    *,
    error: str | None = None,
    message: str | None = None,
    status_code: int = 200,
    username: str = "",
) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        settings,
        "login.html",
        locale,
        status_code=status_code,
        csrf_token=token,
        error=message or (t(error, locale) if error else None),
        username=username,
    )
    set_login_csrf_cookie(response, settings, token)
    return response


def forbidden(request: Request, settings: Settings, reason: str = "staff.error.csrf", *,
              back: str = HOME, back_title: str = "staff.title") -> Response:
    """The 403 page, with the reason in the staff's language and the way back."""
    locale = page_locale(request, settings)
    return render(request, settings, "message.html", locale, status_code=403,
                  message=t(reason, locale), back=back,
                  back_label=t(back_title, locale, brand=settings.brand_name))


def not_at_counter(request: Request, settings: Settings) -> Response:
    """A marketer at the counter: refused, pointed at the console."""
    return forbidden(request, settings, "staff.error.not_counter_role", back=CONSOLE_HOME,
                     back_title="console.title")


def _script_texts(locale: str) -> dict[str, str]:
    """The texts the page's script shows, in the staff's language."""
    keys = (
        "camera_starting", "camera_ready", "camera_denied", "camera_unavailable",
        "looking_up", "working", "network_error", "redeem_action", "undo_action",
        "void_confirm", "no_rewards", "history_empty", "voided", "dismiss", "failed",
        "adjust_invalid",
    )
    texts = {key: t(f"staff.script.{key}", locale) for key in keys}
    return {**texts, "tags_none": t("tags.staff.none", locale),
            "tag_remove": t("tags.staff.remove", locale)}
