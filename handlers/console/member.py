"""A member's page: the card as the counter shows it, the ledger, tags with their
sources and history, RFM figures and segment history (loyalty.member_profile); and a
tag added or removed by hand (source manual, by the signed-in account)."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from core.clock import utcnow
from handlers.console.access import ViewerDep
from handlers.console.forms import MAX_FIELD, csrf_matches, csrf_refused, see_other
from handlers.console.rendering import Viewer, not_found_page, render, row_id
from handlers.deps import SessionDep
from loyalty.errors import LoyaltyError, NotFound
from loyalty.member_profile import member_profile
from loyalty.tags import MAX_TAG_NAME, Tagger, tag_member, untag_member

router = APIRouter(prefix="/console", include_in_schema=False)

Csrf = Annotated[str, Form(max_length=MAX_FIELD)]
TagName = Annotated[str, Form(max_length=MAX_TAG_NAME * 4)]


async def _page(request: Request, viewer: Viewer, session: SessionDep, member_id: str, *,
                error: str | None = None, status_code: int = 200) -> HTMLResponse:
    """404 for an id that names no member (or an erased one, or is no id at all)."""
    wanted = row_id(member_id)
    if wanted is None:
        return not_found_page(request, viewer)
    try:
        profile = await member_profile(session, member_id=wanted, locale=viewer.locale,
                                       now=utcnow())
    except NotFound:
        return not_found_page(request, viewer)
    response = render(request, viewer, "member.html", section="members", profile=profile,
                      member=profile.member, card=profile.card, error=error)
    response.status_code = status_code
    return response


@router.get("/members/{member_id}", response_class=HTMLResponse)
async def member_page(request: Request, member_id: str, viewer: ViewerDep,
                      session: SessionDep) -> HTMLResponse:
    return await _page(request, viewer, session, member_id)


@router.post("/members/{member_id}/tags", response_class=HTMLResponse)
async def add_tag_form(request: Request, member_id: str, viewer: ViewerDep,
                       session: SessionDep, csrf: Csrf = "", name: TagName = "") -> Response:
    return await _change_tag(request, viewer, session, member_id, csrf, name, add=True)


@router.post("/members/{member_id}/tags/remove", response_class=HTMLResponse)
async def remove_tag_form(request: Request, member_id: str, viewer: ViewerDep,
                          session: SessionDep, csrf: Csrf = "", name: TagName = "") -> Response:
    return await _change_tag(request, viewer, session, member_id, csrf, name, add=False)


async def _change_tag(request: Request, viewer: Viewer, session: SessionDep, member_id: str,
                      csrf: str, name: str, *, add: bool) -> Response:
    if not csrf_matches(viewer, csrf):
        return csrf_refused(request, viewer, "members")
    wanted = row_id(member_id)
    if wanted is None:
        return not_found_page(request, viewer)
    change = tag_member if add else untag_member
    try:
        await change(session, member_id=wanted, name=name, by=Tagger.staff(viewer.staff_id),
                     now=utcnow(), locale=viewer.locale)
    except NotFound:
        if add:
            return not_found_page(request, viewer)
        return await _page(request, viewer, session, member_id,
                           error=viewer.text("console.error.tag_not_found"), status_code=404)
    except LoyaltyError as error:
        return await _page(request, viewer, session, member_id, error=error.message,
                           status_code=error.status_code)
    return see_other(f"/console/members/{wanted}")
