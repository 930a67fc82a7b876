"""Saved segments (loyalty.segments): the list with each one's size, the editor (every
filter of a SegmentDefinition, its live size and a sample from a small JSON endpoint
the page calls as the marketer types), rename, delete (asked once, with the size), and
a segment's members with a CSV export.

The editor's script writes the definition it builds from the controls into the form's
`definition` field, the same JSON the live size is asked for; the server reads only
that JSON, so what is saved is exactly what was counted."""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Header, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from core.clock import utcnow
from core.errors import Forbidden
from core.i18n import SUPPORTED_LOCALES, t
from handlers.console.access import ViewerDep
from handlers.console.forms import MAX_FIELD, confirm_page, csrf_matches, csrf_refused, see_other
from handlers.console.member_sample import members_csv, members_page
from handlers.console.rendering import Viewer, not_found_page, render, row_id
from handlers.deps import DatabaseDep, SessionDep, SettingsDep
from loyalty.errors import LoyaltyError, NotFound
from loyalty.models import Segment
from loyalty.segments import (
    DESCRIPTION_LENGTH,
    NAME_LENGTH,
    create_segment,
    delete_segment,
    get_segment,
    list_segments,
    parse_definition,
    saved_definition,
    segment_sample,
    segment_size,
    update_segment,
)
from loyalty.stores import list_stores
from loyalty.tag_rules import segment_names
from loyalty.tags import tags_with_counts

router = APIRouter(prefix="/console", include_in_schema=False)

SECTION = "segments"
SAMPLE = 10
# A definition at its every bound is a few kilobytes; anything far past it is refused
# before it is parsed.
MAX_DEFINITION_TEXT = 20_000
Csrf = Annotated[str, Form(max_length=MAX_FIELD)]
Name = Annotated[str, Form(max_length=NAME_LENGTH * 4)]
Description = Annotated[str, Form(max_length=DESCRIPTION_LENGTH * 4)]
DefinitionText = Annotated[str, Form(max_length=MAX_DEFINITION_TEXT)]


class SizeRequest(BaseModel):
    """The live size's question: the definition as the editor has it now."""

    definition: dict[str, Any] = Field(max_length=20)


def _posted(text: str) -> Any:
    """The form's definition as JSON data, None when it is not JSON: the segment service
    refuses anything but an object (invalid_segment, "definition")."""
    try:
        return json.loads(text or "{}")
    except ValueError:
        return None


def _editable(posted: Any) -> dict[str, Any]:
    """A posted definition to fill the editor again (nothing when it is no object)."""
    return posted if isinstance(posted, dict) else {}


async def _choices(session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    """What the editor's lists offer: tags, stores, RFM segments."""
    return {"tags": await tags_with_counts(session),
            "stores": await list_stores(session),
            "rfm_segments": segment_names(settings.rfm_segments)}


async def _saved(session: SessionDep, viewer: Viewer, segment_id: str) -> Segment | None:
    wanted = row_id(segment_id)
    if wanted is None:
        return None
    try:
        return await get_segment(session, wanted, locale=viewer.locale)
    except NotFound:
        return None


@router.get("/segments", response_class=HTMLResponse)
async def segments_page(request: Request, viewer: ViewerDep,
                        session: SessionDep) -> HTMLResponse:
    now = utcnow()
    rows = [(segment, await segment_size(session, saved_definition(segment), now=now,
                                         timezone=viewer.timezone))
            for segment in await list_segments(session)]
    return render(request, viewer, "segments.html", section=SECTION, rows=rows)


async def _editor(request: Request, viewer: Viewer, session: SessionDep,
                  settings: SettingsDep, *, segment: Segment | None, name: str,
                  description: str, definition: dict[str, Any], error: str | None = None,
                  status_code: int = 200) -> HTMLResponse:
    response = render(request, viewer, "segment.html", section=SECTION, segment=segment,
                      segment_name=name, description=description, definition=definition,
                      error=error, field=lambda path: _field(definition, path),
                      chosen=lambda path: _chosen(definition, path),
                      language_names={tag: t("staff.language_name", tag)
                                      for tag in SUPPORTED_LOCALES},
                      **await _choices(session, settings))
    response.status_code = status_code
    return response


@router.get("/segments/new", response_class=HTMLResponse)
async def new_segment_page(request: Request, viewer: ViewerDep, session: SessionDep,
                           settings: SettingsDep) -> HTMLResponse:
    return await _editor(request, viewer, session, settings, segment=None, name="",
                         description="", definition={})


@router.post("/segments/size", responses={})
async def live_size(body: SizeRequest, viewer: ViewerDep, session: SessionDep,
                    x_csrf_token: Annotated[str, Header(max_length=MAX_FIELD)] = ""
                    ) -> JSONResponse:
    """The size and a sample of the definition being edited; an invalid one is a 422
    naming its fields, in the one error shape."""
    if not csrf_matches(viewer, x_csrf_token):
        raise Forbidden(viewer.text("staff.error.csrf"), code="csrf_failed")
    definition = parse_definition(body.definition, viewer.locale)
    now = utcnow()
    size = await segment_size(session, definition, now=now, timezone=viewer.timezone)
    sample = await segment_sample(session, definition, now=now, timezone=viewer.timezone,
                                  limit=SAMPLE)
    return JSONResponse(
        {"size": size, "sample": [{"id": member.id, "name": member.name,
                                   "member_key": member.member_key} for member in sample]},
        headers={"Cache-Control": "no-store"})


@router.post("/segments", response_class=HTMLResponse)
async def create_segment_form(request: Request, viewer: ViewerDep, session: SessionDep,
                              settings: SettingsDep, csrf: Csrf = "", name: Name = "",
                              description: Description = "",
                              definition: DefinitionText = "{}") -> Response:
    if not csrf_matches(viewer, csrf):
        return csrf_refused(request, viewer, SECTION)
    posted = _posted(definition)
    try:
        created = await create_segment(session, name=name, definition=posted,
                                       description=description, locale=viewer.locale)
    except LoyaltyError as error:
        return await _editor(request, viewer, session, settings, segment=None, name=name,
                             description=description, definition=_editable(posted),
                             error=error.message, status_code=error.status_code)
    return see_other(f"/console/segments/{created.id}")


def _at(definition: dict[str, Any], path: str) -> object:
    """The value at a dotted path of a definition (None where a step is not there); a
    posted definition may hold anything."""
    value: object = definition
    for step in path.split("."):
        value = value.get(step) if isinstance(value, dict) else None
    return value


def _field(definition: dict[str, Any], path: str) -> str:
    """A control's value, as text."""
    value = _at(definition, path)
    return str(value) if isinstance(value, str | int | bool) else ""


def _chosen(definition: dict[str, Any], path: str) -> list[object]:
    """The values of a list control (only scalars: they are compared with options)."""
    value = _at(definition, path)
    return [item for item in value if isinstance(item, str | int)] \
        if isinstance(value, list) else []


@router.get("/segments/{segment_id}", response_class=HTMLResponse)
async def segment_page(request: Request, segment_id: str, viewer: ViewerDep,
                       session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    segment = await _saved(session, viewer, segment_id)
    if segment is None:
        return _missing(request, viewer)
    return await _editor(request, viewer, session, settings, segment=segment,
                         name=segment.name, description=segment.description or "",
                         definition=segment.definition)


def _missing(request: Request, viewer: Viewer) -> HTMLResponse:
    return not_found_page(request, viewer, "console.error.segment_not_found", SECTION)


@router.post("/segments/{segment_id}", response_class=HTMLResponse)
async def update_segment_form(request: Request, segment_id: str, viewer: ViewerDep,
                              session: SessionDep, settings: SettingsDep, csrf: Csrf = "",
                              name: Name = "", description: Description = "",
                              definition: DefinitionText = "{}") -> Response:
    if not csrf_matches(viewer, csrf):
        return csrf_refused(request, viewer, SECTION)
    segment = await _saved(session, viewer, segment_id)
    if segment is None:
        return _missing(request, viewer)
    posted = _posted(definition)
    try:
        await update_segment(session, segment.id, name=name, definition=posted,
                             description=description, locale=viewer.locale)
    except LoyaltyError as error:
        return await _editor(request, viewer, session, settings, segment=segment, name=name,
                             description=description, definition=_editable(posted),
                             error=error.message, status_code=error.status_code)
    return see_other(f"/console/segments/{segment.id}")


@router.get("/segments/{segment_id}/delete", response_class=HTMLResponse)
async def confirm_delete_page(request: Request, segment_id: str, viewer: ViewerDep,
                              session: SessionDep) -> HTMLResponse:
    segment = await _saved(session, viewer, segment_id)
    if segment is None:
        return _missing(request, viewer)
    size = await segment_size(session, saved_definition(segment), now=utcnow(),
                              timezone=viewer.timezone)
    return confirm_page(
        request, viewer, section=SECTION,
        question=viewer.text("console.segments.delete_question", name=segment.name,
                             count=f"{size:,}"),
        action=f"/console/segments/{segment.id}/delete",
        back=f"/console/segments/{segment.id}")


@router.post("/segments/{segment_id}/delete", response_class=HTMLResponse)
async def delete_segment_form(request: Request, segment_id: str, viewer: ViewerDep,
                              session: SessionDep, csrf: Csrf = "") -> Response:
    if not csrf_matches(viewer, csrf):
        return csrf_refused(request, viewer, SECTION)
    segment = await _saved(session, viewer, segment_id)
    if segment is None:
        return _missing(request, viewer)
    await delete_segment(session, segment.id, locale=viewer.locale)
    return see_other("/console/segments")


@router.get("/segments/{segment_id}/members", response_class=HTMLResponse)
async def segment_members_page(request: Request, segment_id: str, viewer: ViewerDep,
                               session: SessionDep) -> HTMLResponse:
    segment = await _saved(session, viewer, segment_id)
    if segment is None:
        return _missing(request, viewer)
    return await members_page(
        request, viewer, session, saved_definition(segment), section=SECTION,
        title=viewer.text("console.segments.members_title", name=segment.name),
        back=f"/console/segments/{segment.id}", back_label=viewer.text("console.segments.edit"),
        csv=f"/console/segments/{segment.id}/members.csv")


@router.get("/segments/{segment_id}/members.csv", response_model=None)
async def segment_members_csv(request: Request, segment_id: str, viewer: ViewerDep,
                              session: SessionDep, db: DatabaseDep) -> Response:
    segment = await _saved(session, viewer, segment_id)
    if segment is None:
        return _missing(request, viewer)
    return members_csv(db, saved_definition(segment), timezone=viewer.timezone,
                       filename=f"segment-{segment.id}.csv")
