"""Tags (loyalty.tags): the list with member counts (filtered, sorted, exported), create,
rename, delete (asked once, with the members it touches), a tag's members, and adding
or removing a tag by hand on a member's page (source manual, by the signed-in account)."""

from collections.abc import AsyncIterator, Sequence
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from core.clock import utcnow
from handlers.console.access import ViewerDep
from handlers.console.csv_export import csv_download
from handlers.console.forms import MAX_FIELD, confirm_page, csrf_matches, csrf_refused, see_other
from handlers.console.member_sample import members_csv, members_page
from handlers.console.rendering import Viewer, not_found_page, render, row_id
from handlers.deps import DatabaseDep, SessionDep
from loyalty.errors import LoyaltyError, NotFound
from loyalty.models import Tag
from loyalty.segments import SegmentDefinition, TagFilter
from loyalty.tags import (
    MAX_TAG_DESCRIPTION,
    MAX_TAG_NAME,
    TagCount,
    Tagger,
    create_tag,
    delete_tag,
    live_tag,
    rename_tag,
    tags_with_counts,
)

router = APIRouter(prefix="/console", include_in_schema=False)

SECTION = "tags"
CSV_HEADER = ("tag_id", "name", "description", "members")
TagSort = Literal["name", "members"]
Csrf = Annotated[str, Form(max_length=MAX_FIELD)]
# Room for what a person may paste; the service trims and refuses past its limits.
Name = Annotated[str, Form(max_length=MAX_TAG_NAME * 4)]
Description = Annotated[str, Form(max_length=MAX_TAG_DESCRIPTION * 4)]
_QUERY_LENGTH = 100


def _listed(tags: Sequence[TagCount], q: str, sort: str, order: str) -> list[TagCount]:
    """The tags whose name holds `q` (any case), by name or by members."""
    needle = q.strip()[:_QUERY_LENGTH].casefold()
    shown = [tag for tag in tags if needle in tag.name.casefold()]
    by_members = sort == "members"
    return sorted(shown, key=(lambda tag: (tag.members, tag.name)) if by_members
                  else (lambda tag: tag.name), reverse=order == "desc")


async def _tags_page(request: Request, viewer: Viewer, session: SessionDep, *, q: str = "",
                     sort: str = "name", order: str = "asc", error: str | None = None,
                     status_code: int = 200) -> HTMLResponse:
    tags = _listed(await tags_with_counts(session), q, sort, order)
    response = render(request, viewer, "tags.html", section=SECTION, tags=tags,
                      q=q[:_QUERY_LENGTH], sort="members" if sort == "members" else "name",
                      order="desc" if order == "desc" else "asc", error=error)
    response.status_code = status_code
    return response


@router.get("/tags", response_class=HTMLResponse)
async def tags_page(request: Request, viewer: ViewerDep, session: SessionDep, q: str = "",
                    sort: str = "name", order: str = "asc") -> HTMLResponse:
    return await _tags_page(request, viewer, session, q=q, sort=sort, order=order)


@router.get("/tags.csv")
async def tags_csv(viewer: ViewerDep, session: SessionDep, q: str = "", sort: str = "name",
                   order: str = "asc") -> StreamingResponse:
    tags = _listed(await tags_with_counts(session), q, sort, order)

    async def rows() -> AsyncIterator[Sequence[object]]:
        for tag in tags:
            yield (tag.id, tag.name, tag.description or "", tag.members)

    return csv_download("tags.csv", CSV_HEADER, rows())


@router.post("/tags", response_class=HTMLResponse)
async def create_tag_form(request: Request, viewer: ViewerDep, session: SessionDep,
                          csrf: Csrf = "", name: Name = "",
                          description: Description = "") -> Response:
    if not csrf_matches(viewer, csrf):
        return csrf_refused(request, viewer, SECTION)
    try:
        await create_tag(session, name=name, description=description or None,
                         locale=viewer.locale)
    except LoyaltyError as error:
        return await _tags_page(request, viewer, session, error=error.message,
                                status_code=error.status_code)
    return see_other("/console/tags")


async def _live(session: SessionDep, viewer: Viewer, tag_id: str) -> Tag | None:
    wanted = row_id(tag_id)
    if wanted is None:
        return None
    try:
        return await live_tag(session, tag_id=wanted, locale=viewer.locale)
    except NotFound:
        return None


def _missing(request: Request, viewer: Viewer) -> HTMLResponse:
    return not_found_page(request, viewer, "console.error.tag_not_found", SECTION)


def _tagged(tag: Tag) -> SegmentDefinition:
    return SegmentDefinition(tags=TagFilter(all_of=[tag.id]))


@router.post("/tags/{tag_id}/rename", response_class=HTMLResponse)
async def rename_tag_form(request: Request, tag_id: str, viewer: ViewerDep,
                          session: SessionDep, csrf: Csrf = "", name: Name = "",
                          description: Description = "") -> Response:
    if not csrf_matches(viewer, csrf):
        return csrf_refused(request, viewer, SECTION)
    tag = await _live(session, viewer, tag_id)
    if tag is None:
        return _missing(request, viewer)
    try:
        await rename_tag(session, tag_id=tag.id, name=name, description=description or None,
                         locale=viewer.locale)
    except LoyaltyError as error:
        return await _tags_page(request, viewer, session, error=error.message,
                                status_code=error.status_code)
    return see_other("/console/tags")


@router.get("/tags/{tag_id}/delete", response_class=HTMLResponse)
async def confirm_delete_page(request: Request, tag_id: str, viewer: ViewerDep,
                              session: SessionDep) -> HTMLResponse:
    tag = await _live(session, viewer, tag_id)
    if tag is None:
        return _missing(request, viewer)
    count = next(row.members for row in await tags_with_counts(session) if row.id == tag.id)
    return confirm_page(
        request, viewer, section=SECTION,
        question=viewer.text("console.tags.delete_question", name=tag.name,
                             count=f"{count:,}"),
        action=f"/console/tags/{tag.id}/delete", back="/console/tags")


@router.post("/tags/{tag_id}/delete", response_class=HTMLResponse)
async def delete_tag_form(request: Request, tag_id: str, viewer: ViewerDep,
                          session: SessionDep, csrf: Csrf = "") -> Response:
    if not csrf_matches(viewer, csrf):
        return csrf_refused(request, viewer, SECTION)
    tag = await _live(session, viewer, tag_id)
    if tag is None:
        return _missing(request, viewer)
    await delete_tag(session, tag_id=tag.id, by=Tagger.staff(viewer.staff_id), now=utcnow(),
                     locale=viewer.locale)
    return see_other("/console/tags")


@router.get("/tags/{tag_id}", response_class=HTMLResponse)
async def tag_members_page(request: Request, tag_id: str, viewer: ViewerDep,
                           session: SessionDep) -> HTMLResponse:
    tag = await _live(session, viewer, tag_id)
    if tag is None:
        return _missing(request, viewer)
    return await members_page(
        request, viewer, session, _tagged(tag), section=SECTION,
        title=viewer.text("console.tags.members_title", name=tag.name),
        back="/console/tags", back_label=viewer.text("console.tags.title"),
        csv=f"/console/tags/{tag.id}/members.csv")


@router.get("/tags/{tag_id}/members.csv", response_model=None)
async def tag_members_csv(request: Request, tag_id: str, viewer: ViewerDep,
                          session: SessionDep, db: DatabaseDep) -> Response:
    tag = await _live(session, viewer, tag_id)
    if tag is None:
        return _missing(request, viewer)
    return members_csv(db, _tagged(tag), timezone=viewer.timezone,
                       filename=f"tag-{tag.id}.csv")
