"""A member's tags through the POS API: read them with their sources, add one by name
(created if new), remove one. Writes are manual tags by the store's POS key and carry an
`Idempotency-Key` like every POS write (handlers.pos_api)."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from core.bounds import DbId
from core.clock import utcnow
from handlers.deps import LocaleDep, PosKeyDep, SessionDep
from handlers.pos_api import ERRORS, REQUIRES_KEY, IdempotencyKey, require_idempotency_key
from loyalty import tags
from loyalty.idempotency import request_hash, run_idempotent
from loyalty.models import PosKey
from loyalty.tags import MAX_TAG_NAME, MemberTagView, Tagger

router = APIRouter(prefix="/api/v1", tags=["POS"])

TagName = Annotated[str, Field(min_length=1, max_length=MAX_TAG_NAME,
                               examples=["oat milk"],
                               description="Trimmed; one line, no control characters.")]


class TagCreate(BaseModel):
    tag: TagName


class MemberTagRead(BaseModel):
    name: str
    source: str = Field(examples=["manual"], description="manual | rule | import | rfm")
    staff: str | None = Field(description="The staff account that tagged by hand.")
    pos_key: str | None = Field(description="The prefix of the POS key that tagged by hand.")
    rule: str | None = Field(description="The tag rule that tagged.")
    tagged_at: datetime

    @classmethod
    def of(cls, view: MemberTagView) -> "MemberTagRead":
        return cls(name=view.name, source=view.source, staff=view.staff_name,
                   pos_key=view.pos_key_prefix, rule=view.rule_name, tagged_at=view.tagged_at)


class MemberTagsRead(BaseModel):
    member_id: int
    tags: list[MemberTagRead]
    changed: bool | None = Field(default=None, description="On a write: whether it changed "
                                 "the member's tags (false: they had it, or lacked it).")


async def _tags_of(session: AsyncSession, member_id: int,
                   changed: bool | None = None) -> MemberTagsRead:
    views = await tags.member_tags(session, member_id=member_id)
    return MemberTagsRead(member_id=member_id, tags=[MemberTagRead.of(v) for v in views],
                          changed=changed)


@router.get("/members/{member_id}/tags", response_model=MemberTagsRead, responses=ERRORS,
            summary="Read a member's tags")
async def read_tags(member_id: DbId, session: SessionDep, pos_key: PosKeyDep,
                    locale: LocaleDep) -> MemberTagsRead:
    """The member's tags with where each came from: by hand (which staff account or POS
    key), a rule, an import or RFM, and when. Refusals: `not_found`."""
    await tags.require_member(session, member_id=member_id, locale=locale)
    return await _tags_of(session, member_id)


async def _write(request: Request, session: AsyncSession, pos_key: PosKey, locale: str,
                 key: str | None, body: dict[str, Any] | None, *, member_id: int,
                 name: str, add: bool) -> JSONResponse:
    # A name that can never be a tag is refused before anything is written, the
    # Idempotency-Key's record included.
    tags.clean_tag_name(name, locale)

    async def work() -> tuple[int, dict[str, Any]]:
        change = tags.tag_member if add else tags.untag_member
        changed = await change(session, member_id=member_id, name=name,
                               by=Tagger.pos_key(pos_key.id), now=utcnow(), locale=locale)
        answer = await _tags_of(session, member_id, changed)
        return 200, answer.model_dump(mode="json")

    answer = await run_idempotent(
        session, scope=f"pos:store:{pos_key.store_id}", key=require_idempotency_key(key, locale),
        request_hash=request_hash(request.method, request.url.path, body), work=work,
        locale=locale)
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return JSONResponse(answer.body, status_code=answer.status_code, headers=headers)


@router.post("/members/{member_id}/tags", response_model=MemberTagsRead, responses=ERRORS,
             openapi_extra=REQUIRES_KEY, summary="Tag a member")
async def add_tag(member_id: DbId, body: TagCreate, request: Request, session: SessionDep,
                  pos_key: PosKeyDep, locale: LocaleDep,
                  idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """Tags the member by hand, as this POS key (a new name creates the tag); tagging
    twice is one tag. Answers the member's tags. Refusals: `not_found` (member),
    `invalid_tag_name`."""
    return await _write(request, session, pos_key, locale, idempotency_key,
                        body.model_dump(), member_id=member_id, name=body.tag, add=True)


@router.delete("/members/{member_id}/tags/{tag}", response_model=MemberTagsRead,
               responses=ERRORS, openapi_extra=REQUIRES_KEY, summary="Untag a member")
async def remove_tag(member_id: DbId, tag: Annotated[str, Path(min_length=1,
                                                               max_length=MAX_TAG_NAME)],
                     request: Request, session: SessionDep, pos_key: PosKeyDep,
                     locale: LocaleDep, idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """Removes the tag from the member whatever set it; the member's tag history keeps
    both the add and the removal. Answers the member's tags. Refusals: `not_found`
    (member or tag), `invalid_tag_name`."""
    return await _write(request, session, pos_key, locale, idempotency_key, None,
                        member_id=member_id, name=tag, add=False)
