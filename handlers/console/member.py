"""A member's page: the card as the counter shows it, the ledger, tags with their
sources and history, RFM figures and segment history (loyalty.member_profile)."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from core.clock import utcnow
from handlers.console.access import ViewerDep
from handlers.console.rendering import not_found_page, render, row_id
from handlers.deps import SessionDep
from loyalty.errors import NotFound
from loyalty.member_profile import member_profile

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/members/{member_id}", response_class=HTMLResponse)
async def member_page(request: Request, member_id: str, viewer: ViewerDep,
                      session: SessionDep) -> HTMLResponse:
    """404 for an id that names no member (or an erased one, or is no id at all)."""
    wanted = row_id(member_id)
    if wanted is None:
        return not_found_page(request, viewer)
    try:
        profile = await member_profile(session, member_id=wanted, locale=viewer.locale,
                                       now=utcnow())
    except NotFound:
        return not_found_page(request, viewer)
    return render(request, viewer, "member.html", section="members", profile=profile,
                  member=profile.member, card=profile.card)
