"""Tags: labels on members, set by hand (console, staff page, POS API), by a tag rule
(loyalty.tag_rules), by a history import or by the RFM recompute.

A member has a tag at most once (loyalty_member_tag, with where it came from); every add
and removal is a row of loyalty_member_tag_change, kept after the tag is gone. Adding
and removing are set-based: one statement pair for any number of members, never a
Python loop over them. Deleting a tag removes it from everyone (a 'remove' change each)
and keeps its row, so the history still names it."""

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, insert, literal, select, update
from sqlalchemy import delete as sql_delete
from sqlalchemy.ext.asyncio import AsyncSession

from cards.models import Member
from core.clock import utcnow
from core.db import insert_for, rows_changed
from loyalty.errors import LoyaltyError, NotFound
from loyalty.models import (
    MemberTag,
    MemberTagChange,
    PosKey,
    StaffAccount,
    Tag,
    TagRule,
)

MAX_TAG_NAME = 64
MAX_TAG_DESCRIPTION = 500
# Line and paragraph separators and every control character (tabs, newlines, NUL, the
# C1 range) would break a chip, a CSV export or a log line; unpaired surrogates and
# private-use characters are not text.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Zl", "Zp"})
HISTORY_LIMIT = 100
_changes = MemberTagChange.__table__


class InvalidTagName(LoyaltyError):
    """Empty, longer than MAX_TAG_NAME or holding a control character or line break."""

    code = "invalid_tag_name"
    status_code = 422


class TagNameTaken(LoyaltyError):
    code = "tag_name_taken"
    status_code = 409


@dataclass(frozen=True, slots=True)
class Tagger:
    """Who adds or removes a tag: a person (by staff account or POS key), a rule, the
    RFM recompute keeping a segment's tag (through its rule), or an import."""

    source: str  # one of loyalty.models.TAG_SOURCES
    staff_id: int | None = None
    pos_key_id: int | None = None
    rule_id: int | None = None

    @classmethod
    def staff(cls, staff_id: int) -> "Tagger":
        return cls("manual", staff_id=staff_id)

    @classmethod
    def pos_key(cls, pos_key_id: int) -> "Tagger":
        return cls("manual", pos_key_id=pos_key_id)

    @classmethod
    def imported(cls) -> "Tagger":
        return cls("import")

    @classmethod
    def rule(cls, rule: TagRule) -> "Tagger":
        return cls("rfm" if rule.kind == "rfm" else "rule", rule_id=rule.id)

    def columns(self) -> dict[str, Any]:
        return {"source": self.source, "staff_id": self.staff_id,
                "pos_key_id": self.pos_key_id, "rule_id": self.rule_id}

    def values(self) -> list[ColumnElement[Any]]:
        """The columns as typed literals for an INSERT ... SELECT (PostgreSQL infers no
        type for a bare parameter in a select list)."""
        return [literal(value, _changes.c[name].type) for name, value in self.columns().items()]


@dataclass(frozen=True, slots=True)
class MemberTagView:
    """A tag a member has now, with where it came from and who set it."""

    tag_id: int
    name: str
    source: str
    staff_name: str | None
    pos_key_prefix: str | None
    rule_name: str | None
    tagged_at: datetime


@dataclass(frozen=True, slots=True)
class TagChangeView:
    name: str
    action: str  # "add" | "remove"
    source: str
    staff_name: str | None
    pos_key_prefix: str | None
    rule_name: str | None
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class TagCount:
    id: int
    name: str
    description: str | None
    members: int


def clean_tag_name(name: str, locale: str = "zh-TW") -> str:
    """The name as stored: trimmed, NFC; refused (invalid_tag_name) when empty, longer
    than MAX_TAG_NAME or holding a control character or a line break."""
    cleaned = unicodedata.normalize("NFC", name.strip())
    if not 0 < len(cleaned) <= MAX_TAG_NAME or any(
            unicodedata.category(char) in _REFUSED_CATEGORIES for char in cleaned):
        raise InvalidTagName(locale, max_length=MAX_TAG_NAME)
    return cleaned


def _clean_description(description: str | None) -> str | None:
    if description is None:
        return None
    return description.strip()[:MAX_TAG_DESCRIPTION] or None


async def create_tag(session: AsyncSession, *, name: str, description: str | None = None,
                     locale: str = "zh-TW") -> Tag:
    """A new tag; a deleted tag of that name comes back. Refusals: invalid_tag_name,
    tag_name_taken."""
    cleaned = clean_tag_name(name, locale)
    tag = await session.scalar(select(Tag).where(Tag.name == cleaned))
    if tag is not None and tag.deleted_at is None:
        raise TagNameTaken(locale)
    if tag is None:
        tag = Tag(name=cleaned)
        session.add(tag)
    tag.deleted_at = None
    tag.description = _clean_description(description)
    await session.flush()
    return tag


async def ensure_tag(session: AsyncSession, *, name: str, locale: str = "zh-TW") -> Tag:
    """The live tag of that name, created (or brought back) if need be: a person tagging
    a member by a name types a new tag into being. Refusals: invalid_tag_name."""
    cleaned = clean_tag_name(name, locale)
    await session.execute(insert_for(session, Tag).values(name=cleaned, created_at=utcnow())
                          .on_conflict_do_nothing(index_elements=["name"]))
    tag = await session.scalar(select(Tag).where(Tag.name == cleaned))
    assert tag is not None
    if tag.deleted_at is not None:
        tag.deleted_at = None
        await session.flush()
    return tag


async def rename_tag(session: AsyncSession, *, tag_id: int, name: str,
                     description: str | None = None, locale: str = "zh-TW") -> Tag:
    """Refusals: not_found, invalid_tag_name, tag_name_taken (also by a deleted tag,
    whose history keeps its name)."""
    tag = await live_tag(session, tag_id=tag_id, locale=locale)
    cleaned = clean_tag_name(name, locale)
    if cleaned != tag.name and await session.scalar(select(Tag.id).where(Tag.name == cleaned)):
        raise TagNameTaken(locale)
    tag.name = cleaned
    tag.description = _clean_description(description)
    await session.flush()
    return tag


async def delete_tag(session: AsyncSession, *, tag_id: int, by: Tagger, now: datetime,
                     locale: str = "zh-TW") -> int:
    """Takes the tag off every member (a 'remove' change each, by `by`), retires its
    rules and marks it deleted; returns how many members lost it. Refusals: not_found."""
    tag = await live_tag(session, tag_id=tag_id, locale=locale)
    removed = await remove_tags(session, where=MemberTag.tag_id == tag.id, by=by, now=now)
    await session.execute(update(TagRule).where(TagRule.tag_id == tag.id,
                                                TagRule.deleted_at.is_(None))
                          .values(deleted_at=now, active=False))
    tag.deleted_at = now
    await session.flush()
    return removed


async def live_tag(session: AsyncSession, *, tag_id: int, locale: str = "zh-TW") -> Tag:
    tag = await session.get(Tag, tag_id)
    if tag is None or tag.deleted_at is not None:
        raise NotFound(locale)
    return tag


async def tag_by_name(session: AsyncSession, *, name: str, locale: str = "zh-TW") -> Tag:
    """The live tag of that name. Refusals: invalid_tag_name, not_found."""
    tag = await session.scalar(select(Tag).where(Tag.name == clean_tag_name(name, locale),
                                                 Tag.deleted_at.is_(None)))
    if tag is None:
        raise NotFound(locale)
    return tag


async def require_member(session: AsyncSession, *, member_id: int, locale: str) -> None:
    """Refuses not_found for an unknown or erased member."""
    found = await session.scalar(select(Member.id).where(Member.id == member_id,
                                                         Member.deleted_at.is_(None)))
    if found is None:
        raise NotFound(locale)


async def add_tags(session: AsyncSession, *, tag_id: int, members: Select[int],
                   by: Tagger, now: datetime) -> int:
    """Gives the tag to every member id `members` selects who lacks it, with one 'add'
    change each; members who have it keep it as it is (its first source). Returns how
    many were tagged."""
    columns = ["tag_id", "member_id", *by.columns()]
    selected = members.subquery()
    values = [literal(tag_id, _changes.c.tag_id.type), selected.c[0], *by.values()]
    at = literal(now, _changes.c.changed_at.type)
    if session.get_bind().dialect.name == "postgresql":
        # One statement: the rows actually inserted feed the history, so concurrent
        # taggers of one member write one change between them.
        added = (insert_for(session, MemberTag)
                 .from_select([*columns, "tagged_at"], select(*values, at))
                 .on_conflict_do_nothing()
                 .returning(MemberTag.member_id).cte("added"))
        return await rows_changed(session, insert(MemberTagChange).from_select(
            [*columns, "action", "changed_at"],
            select(values[0], added.c.member_id, *values[2:], literal("add"), at)))
    # SQLite: one writer at a time (BEGIN IMMEDIATE), so the check cannot race.
    lacking = select(*values).where(~select(MemberTag.member_id).where(
        MemberTag.tag_id == tag_id, MemberTag.member_id == selected.c[0]).exists())
    changed = await rows_changed(session, insert(MemberTagChange).from_select(
        [*columns, "action", "changed_at"], lacking.add_columns(literal("add"), at)))
    await session.execute(insert_for(session, MemberTag).from_select(
        [*columns, "tagged_at"], lacking.add_columns(at)).on_conflict_do_nothing())
    return changed


async def remove_tags(session: AsyncSession, *, where: ColumnElement[bool], by: Tagger,
                      now: datetime) -> int:
    """Removes the member tags `where` selects (a condition on MemberTag), with one
    'remove' change each by `by`. Returns how many were removed."""
    columns = ["member_id", "tag_id", *by.columns(), "action", "changed_at"]
    who = by.values()
    at = literal(now, _changes.c.changed_at.type)
    if session.get_bind().dialect.name == "postgresql":
        removed = (sql_delete(MemberTag).where(where)
                   .returning(MemberTag.member_id, MemberTag.tag_id).cte("removed"))
        return await rows_changed(session, insert(MemberTagChange).from_select(
            columns, select(removed.c.member_id, removed.c.tag_id, *who, literal("remove"), at)))
    changed = await rows_changed(session, insert(MemberTagChange).from_select(
        columns, select(MemberTag.member_id, MemberTag.tag_id, *who, literal("remove"), at)
        .where(where)))
    await session.execute(sql_delete(MemberTag).where(where))
    return changed


def one_member(member_id: int) -> Select[int]:
    return select(literal(member_id, type_=Member.id.type))


async def tag_member(session: AsyncSession, *, member_id: int, name: str, by: Tagger,
                     now: datetime, locale: str = "zh-TW") -> bool:
    """Tags a member by the tag's name (creating the tag if need be); tagging twice is
    one tag and one change. Returns whether the member was newly tagged. Refusals:
    not_found (member), invalid_tag_name."""
    await require_member(session, member_id=member_id, locale=locale)
    tag = await ensure_tag(session, name=name, locale=locale)
    return await add_tags(session, tag_id=tag.id, members=one_member(member_id), by=by,
                          now=now) > 0


async def untag_member(session: AsyncSession, *, member_id: int, name: str, by: Tagger,
                       now: datetime, locale: str = "zh-TW") -> bool:
    """Removes a tag from a member whatever its source; the history keeps both rows.
    Returns whether the member had it. Refusals: not_found (member or tag),
    invalid_tag_name."""
    await require_member(session, member_id=member_id, locale=locale)
    tag = await tag_by_name(session, name=name, locale=locale)
    return await remove_tags(session, where=(MemberTag.tag_id == tag.id)
                             & (MemberTag.member_id == member_id), by=by, now=now) > 0


def _who(model: type[MemberTag] | type[MemberTagChange]) -> Select[str, str, str]:
    """The names behind a tag row's staff, POS key and rule ids."""
    return (select(StaffAccount.username, PosKey.prefix, TagRule.name)
            .select_from(model)
            .join(Tag, Tag.id == model.tag_id)
            .outerjoin(StaffAccount, StaffAccount.id == model.staff_id)
            .outerjoin(PosKey, PosKey.id == model.pos_key_id)
            .outerjoin(TagRule, TagRule.id == model.rule_id))


async def member_tags(session: AsyncSession, *, member_id: int) -> list[MemberTagView]:
    """The member's current tags, by name, with their sources."""
    rows = await session.execute(
        _who(MemberTag).add_columns(Tag.id, Tag.name, MemberTag.source, MemberTag.tagged_at)
        .where(MemberTag.member_id == member_id).order_by(Tag.name))
    return [MemberTagView(tag_id=tag_id, name=name, source=source, staff_name=staff,
                          pos_key_prefix=prefix, rule_name=rule, tagged_at=tagged_at)
            for staff, prefix, rule, tag_id, name, source, tagged_at in rows.all()]


async def member_tag_history(session: AsyncSession, *, member_id: int,
                             limit: int = HISTORY_LIMIT) -> list[TagChangeView]:
    """The member's tag changes, newest first (deleted tags included)."""
    rows = await session.execute(
        _who(MemberTagChange).add_columns(Tag.name, MemberTagChange.action,
                                          MemberTagChange.source, MemberTagChange.changed_at)
        .where(MemberTagChange.member_id == member_id)
        .order_by(MemberTagChange.changed_at.desc(), MemberTagChange.id.desc()).limit(limit))
    return [TagChangeView(name=name, action=action, source=source, staff_name=staff,
                          pos_key_prefix=prefix, rule_name=rule, changed_at=changed_at)
            for staff, prefix, rule, name, action, source, changed_at in rows.all()]


async def tags_with_counts(session: AsyncSession) -> Sequence[TagCount]:
    """Every live tag with how many members have it, by name."""
    counts = (select(MemberTag.tag_id, func.count().label("members"))
              .group_by(MemberTag.tag_id).subquery())
    rows = await session.execute(
        select(Tag.id, Tag.name, Tag.description, func.coalesce(counts.c.members, 0))
        .outerjoin(counts, counts.c.tag_id == Tag.id)
        .where(Tag.deleted_at.is_(None)).order_by(Tag.name))
    return [TagCount(*row) for row in rows.all()]
