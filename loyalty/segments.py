"""Segments: saved, named filters over members, each compiled to ONE SQL query.

A definition (SegmentDefinition, stored as JSON in loyalty_segment.definition; the
format is in docs/segments.md) is a set of filters of different kinds, all of which a
member must pass (AND across kinds; "any of" lists are OR within the list). An absent
filter, or an empty list, filters nothing: the empty definition is every member. Erased
members (deleted_at set) are never in a segment.

- Tags are named by id, not by name: a renamed tag keeps its segments, and the console
  picks tags from a list anyway. An id no tag has matches no member (a tag deleted after
  the segment was saved); saving a segment refuses unknown tag and store ids.
- Visits are loyalty.rfm's (`visits`: live counter stamps and imported visits), never
  redefined here. Visit filters read them through loyalty.visit_summary when a summary
  is given (the same members, faster), else directly. "The last N days" are the N
  local days ending today, like RFM's window; spend is in minor units (a visit without
  an amount spends 0).
- Dates (last visit, joined) are local days in the brand's time zone (the TIMEZONE
  setting), turned into UTC instants at local midnight. Each pair is half-open:
  `..._after: D` means on D or later, `..._before: D` means before D (on D - 1 or
  earlier), so `after` and `before` with the same D split the members in two.
- A member who never visited has no last visit: neither `last_visit_after` nor
  `last_visit_before` includes them; "at most N visits" does.

Every list and number is bounded, so no definition makes a query (or a Python loop)
bigger than those bounds; anything else in a definition is refused with a 422
(InvalidSegment) naming the fields at fault.

`members_query` is the entry point campaigns send to: a `Select` of member ids.
"""

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationError,
    model_validator,
)
from sqlalchemy import ColumnElement, exists, extract, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from cards.models import Member, MemberIdentity
from core.bounds import JsonDbId, JsonInt
from core.clock import utcnow
from loyalty.errors import InvalidSegment, InvalidSegmentName, NotFound, SegmentNameTaken
from loyalty.models import Balance, MemberTag, MemberVisitSummary, RfmScore, Segment, Store, Tag
from loyalty.rfm import Window, visits
from loyalty.visit_summary import (
    SummaryState,
    current_state,
    summary_column,
    visited_since,
    window_changes,
)

MAX_TAGS = 50  # tags in each of all_of / any_of / none_of
MAX_CHOICES = 20  # RFM segment names, tiers, languages
MAX_WINDOW_DAYS = 3650  # "in the last N days": ten years
MAX_VISIT_COUNT = 1_000_000
MAX_SPEND = 10**12  # minor units: far past any member's spend, well inside 64 bits
MAX_SAMPLE = 100
_EXPORT_BATCH = 1000  # rows fetched at a time by a streamed export
NAME_LENGTH = 100
DESCRIPTION_LENGTH = 500
# Dates outside these years are typos; they also keep date arithmetic from overflowing.
FIRST_DATE, LAST_DATE = date(1900, 1, 1), date(2999, 12, 31)
# The start of "all history" for "has visited (before D)".
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

LocalDate = Annotated[date, Field(ge=FIRST_DATE, le=LAST_DATE)]
Score = Annotated[JsonInt, Field(ge=1, le=5)]
Days = Annotated[JsonInt, Field(ge=1, le=MAX_WINDOW_DAYS)]
# A label chosen from a list (RFM segment, tier key, language tag): printable, one line.
Label = Annotated[str, StringConstraints(min_length=1, max_length=64,
                                         pattern=r"^[^\x00-\x1f\x7f\u2028\u2029]+$")]
Locale = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TagFilter(_Strict):
    """Tag ids: the member has all of `all_of`, at least one of `any_of`, none of
    `none_of`."""

    all_of: list[JsonDbId] = Field(default_factory=list, max_length=MAX_TAGS)
    any_of: list[JsonDbId] = Field(default_factory=list, max_length=MAX_TAGS)
    none_of: list[JsonDbId] = Field(default_factory=list, max_length=MAX_TAGS)


class ScoreRange(_Strict):
    """An inclusive range of RFM scores."""

    min: Score = 1
    max: Score = 5

    @model_validator(mode="after")
    def _in_order(self) -> "ScoreRange":
        if self.min > self.max:
            raise ValueError("min is above max")
        return self


class RfmFilter(_Strict):
    """The member's current RFM score (loyalty_rfm_score): in any of `segments`, and each
    score given within its range. Any RFM filter leaves out members without a score."""

    segments: list[Label] = Field(default_factory=list, max_length=MAX_CHOICES)
    r: ScoreRange | None = None
    f: ScoreRange | None = None
    m: ScoreRange | None = None


def _bounds_in_order(low: int | None, high: int | None) -> None:
    if low is None and high is None:
        raise ValueError("give min, max or both")
    if low is not None and high is not None and low > high:
        raise ValueError("min is above max")


Count = Annotated[JsonInt, Field(ge=0, le=MAX_VISIT_COUNT)]
Spend = Annotated[JsonInt, Field(ge=0, le=MAX_SPEND)]


class VisitWindow(_Strict):
    """Visits in the last `days` local days: at least `min`, at most `max` (inclusive;
    at least one of them)."""

    days: Days
    min: Count | None = None
    max: Count | None = None

    @model_validator(mode="after")
    def _a_bound_in_order(self) -> "VisitWindow":
        _bounds_in_order(self.min, self.max)
        return self


class SpendWindow(_Strict):
    """Minor units spent in the last `days` local days, in [min, max] as VisitWindow."""

    days: Days
    min: Spend | None = None
    max: Spend | None = None

    @model_validator(mode="after")
    def _a_bound_in_order(self) -> "SpendWindow":
        _bounds_in_order(self.min, self.max)
        return self


class StoreFilter(_Strict):
    """Visited store `id`, in the last `days` days if given, else ever."""

    id: JsonDbId
    days: Days | None = None


class SegmentDefinition(_Strict):
    """Who is in a segment (docs/segments.md): every filter given must hold."""

    tags: TagFilter | None = None
    rfm: RfmFilter | None = None
    last_visit_after: LocalDate | None = None
    last_visit_before: LocalDate | None = None
    visits: VisitWindow | None = None
    spend: SpendWindow | None = None
    store: StoreFilter | None = None
    platforms: list[Literal["line", "messenger"]] = Field(default_factory=list, max_length=2)
    locales: list[Locale] = Field(default_factory=list, max_length=MAX_CHOICES)
    joined_after: LocalDate | None = None
    joined_before: LocalDate | None = None
    tiers: list[Label] = Field(default_factory=list, max_length=MAX_CHOICES)
    birthday_months: list[Annotated[JsonInt, Field(ge=1, le=12)]] = Field(
        default_factory=list, max_length=12)
    marketing_opt_in: StrictBool | None = None


def parse_definition(raw: Any, locale: str = "zh-TW") -> SegmentDefinition:
    """A definition from JSON data (a dict), or InvalidSegment naming the fields at
    fault."""
    try:
        return SegmentDefinition.model_validate(raw)
    except ValidationError as error:
        fields = sorted({".".join(str(part) for part in detail["loc"]) or "definition"
                         for detail in error.errors()})
        raise InvalidSegment(locale, fields=", ".join(fields[:10])) from None


# --- compiling a definition ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Clock:
    """Today in the brand's zone, and how local days become UTC instants."""

    zone: ZoneInfo
    today: date

    def midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(), self.zone).astimezone(UTC)

    def since(self, first: date | datetime) -> Window:
        """From local day `first` (or an instant) to the end of today."""
        start = first if isinstance(first, datetime) else self.midnight(first)
        return Window(self.today, start, self.midnight(self.today + timedelta(days=1)))

    def last_days(self, days: int) -> Window:
        return Window.ending(self.today, timezone=self.zone.key, days=days)


def members_query(definition: SegmentDefinition, *, now: datetime, timezone: str,
                  summary: SummaryState | None = None) -> Select[int]:
    """The ids of the (non-erased) members in the segment as of `now`, as one SELECT
    of EXISTS / IN subqueries; `timezone` (the TIMEZONE setting) makes its dates local
    days. Visit filters read the visit summary when given one (`current_state`) that
    answers as of `now`, the raw visits otherwise: the same members either way.
    Campaigns send to it; count or page it as a subquery."""
    if summary is not None and not summary.answers(now=now, timezone=timezone):
        summary = None
    zone = ZoneInfo(timezone)
    clock = _Clock(zone, now.astimezone(zone).date())
    conditions = [Member.deleted_at.is_(None), *_member_conditions(definition, clock),
                  *_tag_conditions(definition.tags), *_rfm_conditions(definition.rfm),
                  *_visit_conditions(definition, clock, summary)]
    return select(Member.id).where(*conditions)


def _member_conditions(definition: SegmentDefinition,
                       clock: _Clock) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if definition.platforms:
        conditions.append(exists().where(MemberIdentity.member_id == Member.id,
                                         MemberIdentity.platform.in_(definition.platforms)))
    if definition.locales:
        conditions.append(Member.locale.in_(definition.locales))
    if definition.joined_after is not None:
        conditions.append(Member.joined_at >= clock.midnight(definition.joined_after))
    if definition.joined_before is not None:
        conditions.append(Member.joined_at < clock.midnight(definition.joined_before))
    if definition.tiers:
        conditions.append(exists().where(Balance.member_id == Member.id,
                                         Balance.tier.in_(definition.tiers)))
    if definition.birthday_months:
        conditions.append(extract("month", Member.birthday).in_(definition.birthday_months))
    if definition.marketing_opt_in is not None:
        conditions.append(Member.marketing_opt_in.is_(definition.marketing_opt_in))
    return conditions


def _tagged(tag_ids: Sequence[int]) -> ColumnElement[bool]:
    return exists().where(MemberTag.member_id == Member.id, MemberTag.tag_id.in_(tag_ids))


def _tag_conditions(tags: TagFilter | None) -> list[ColumnElement[bool]]:
    if tags is None:
        return []
    # One probe of the (tag_id, member_id) key per tag; the lists are bounded.
    conditions = [_tagged([tag_id]) for tag_id in sorted(set(tags.all_of))]
    if tags.any_of:
        conditions.append(_tagged(sorted(set(tags.any_of))))
    if tags.none_of:
        # NOT EXISTS, never NOT IN: PostgreSQL plans it as an anti-join at any size.
        conditions.append(~_tagged(sorted(set(tags.none_of))))
    return conditions


def _rfm_conditions(rfm: RfmFilter | None) -> list[ColumnElement[bool]]:
    if rfm is None:
        return []
    scored: list[ColumnElement[bool]] = [RfmScore.member_id == Member.id]
    if rfm.segments:
        scored.append(RfmScore.segment.in_(rfm.segments))
    for column, bounds in ((RfmScore.r, rfm.r), (RfmScore.f, rfm.f), (RfmScore.m, rfm.m)):
        if bounds is not None:
            scored.append(column.between(bounds.min, bounds.max))
    return [exists().where(*scored)]


def _visited(window: Window, *, store_id: int | None = None) -> ColumnElement[bool]:
    """The member has a visit in the window (at the store)."""
    found = visits(window, store_id=store_id).subquery("visited")
    return exists().where(found.c.member_id == Member.id)


def _visited_since(moment: datetime, clock: _Clock,
                   summary: SummaryState | None) -> ColumnElement[bool]:
    """The member has a visit from `moment` to the end of today."""
    window = clock.since(moment)
    if summary is None:
        return _visited(window)
    found = visited_since(summary, window.start, window.cutoff).subquery("visited")
    return exists().where(found.c.member_id == Member.id)


def _visited_before(before: datetime, clock: _Clock,
                    summary: SummaryState | None) -> ColumnElement[bool]:
    """The member has a visit before `before`. Through the summary: a visit at all
    until the later of `before` and the end of today, which is the same for the
    members with none from `before` to the end of today (last_visit_before asks both)
    and reads the summary's last visit alone."""
    if summary is None:
        return _visited(Window(clock.today, _EPOCH, before))
    until = max(before, clock.since(before).cutoff)
    found = visited_since(summary, _EPOCH, until).subquery("visited_before")
    return exists().where(found.c.member_id == Member.id)


def _visit_conditions(definition: SegmentDefinition, clock: _Clock,
                      summary: SummaryState | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if definition.last_visit_after is not None:
        after = clock.midnight(definition.last_visit_after)
        conditions.append(_visited_since(after, clock, summary))
    if definition.last_visit_before is not None:
        before = clock.midnight(definition.last_visit_before)
        conditions.append(_visited_before(before, clock, summary))
        conditions.append(~_visited_since(before, clock, summary))
    if definition.visits is not None:
        conditions.extend(_bounded(definition.visits, clock, summary, spend=False))
    if definition.spend is not None:
        conditions.extend(_bounded(definition.spend, clock, summary, spend=True))
    if definition.store is not None:
        store = definition.store
        window = clock.last_days(store.days) if store.days else clock.since(_EPOCH)
        conditions.append(_visited(window, store_id=store.id))
    return conditions


def _in_bounds(total: ColumnElement[int], low: int | None,
               high: int | None) -> ColumnElement[bool]:
    if low and high is not None:
        return total.between(low, high)
    return total >= low if low else total <= high


def _bounded(bounds: VisitWindow | SpendWindow, clock: _Clock,
             summary: SummaryState | None, *, spend: bool) -> list[ColumnElement[bool]]:
    """A visit count or spend in [min, max] over the window. A member without visits
    there has 0: in the segment when min is 0 or absent."""
    window = clock.last_days(bounds.days)
    if not bounds.min and bounds.max is None:
        return []
    if summary is not None and summary.covers(bounds.days, window):
        return [_bounded_from_summary(bounds, window, summary, spend=spend)]
    found = visits(window).subquery("in_window")
    total = func.sum(found.c.amount) if spend else func.count()
    per_member = select(found.c.member_id).group_by(found.c.member_id)
    if bounds.min:
        return [Member.id.in_(per_member.having(_in_bounds(total, bounds.min, bounds.max)))]
    over = per_member.having(total > bounds.max).subquery("over")
    return [~exists().where(over.c.member_id == Member.id)]


def _bounded_from_summary(bounds: VisitWindow | SpendWindow, window: Window,
                          summary: SummaryState, *, spend: bool) -> ColumnElement[bool]:
    """As _bounded, from the summary's figure plus the changes since it was built: the
    members whose figure changed are judged on the corrected figure, the others on the
    summary's alone."""
    changes = window_changes(summary, bounds.days, window).subquery("changes")
    changed = (select(changes.c.member_id,
                      func.sum(changes.c.spend if spend else changes.c.visits).label("change"))
               .group_by(changes.c.member_id).cte(f"changed_{'spend' if spend else 'visits'}"))
    summarised = summary_column(bounds.days, spend=spend)
    now_figure = func.coalesce(summarised, 0) + changed.c.change
    # A member without visits has 0: with 0 in bounds, the segment is everyone but the
    # members out of bounds, else the members in bounds.
    zero_in = not bounds.min

    def wanted(figure: ColumnElement[int]) -> ColumnElement[bool]:
        within = _in_bounds(figure, bounds.min, bounds.max)
        return ~within if zero_in else within

    from_changes = (select(changed.c.member_id)
                    .outerjoin(MemberVisitSummary,
                               MemberVisitSummary.member_id == changed.c.member_id)
                    .where(wanted(now_figure)))
    from_summary = select(MemberVisitSummary.member_id).where(
        wanted(summarised),
        ~exists().where(changed.c.member_id == MemberVisitSummary.member_id))
    found = union_all(from_changes, from_summary).subquery("figured")
    matched = exists().where(found.c.member_id == Member.id)
    return ~matched if zero_in else matched


async def segment_size(session: AsyncSession, definition: SegmentDefinition, *,
                       now: datetime, timezone: str) -> int:
    """How many members the segment holds as of `now` (the console's live size)."""
    summary = await current_state(session)
    counted = select(func.count()).select_from(
        members_query(definition, now=now, timezone=timezone, summary=summary)
        .subquery("members"))
    return (await session.scalar(counted)) or 0


@dataclass(frozen=True, slots=True)
class SampleMember:
    id: int
    name: str | None
    member_key: str


async def segment_sample(session: AsyncSession, definition: SegmentDefinition, *,
                         now: datetime, timezone: str, limit: int = 10) -> list[SampleMember]:
    """Up to `limit` (at most MAX_SAMPLE) members of the segment for a preview, the
    most recently joined first."""
    rows = await session.execute(
        (await _sample_rows(session, definition, now=now, timezone=timezone))
        .limit(max(1, min(limit, MAX_SAMPLE))))
    return [SampleMember(*row) for row in rows]


async def _sample_rows(session: AsyncSession, definition: SegmentDefinition, *,
                       now: datetime, timezone: str) -> Select[int, str | None, str]:
    ids = members_query(definition, now=now, timezone=timezone,
                        summary=await current_state(session))
    return (select(Member.id, Member.display_name, Member.member_key)
            .where(Member.id.in_(ids))
            .order_by(Member.joined_at.desc(), Member.id.desc()))


async def export_segment(session: AsyncSession, definition: SegmentDefinition, *,
                         now: datetime, timezone: str) -> AsyncIterator[SampleMember]:
    """Every member of the segment, in the sample's order, streamed (a CSV export)."""
    rows = await session.stream(
        (await _sample_rows(session, definition, now=now, timezone=timezone))
        .execution_options(yield_per=_EXPORT_BATCH))
    async for row in rows:
        yield SampleMember(*row)


# --- saved segments ------------------------------------------------------------------


def _clean_text(value: str, *, length: int, allow_line_breaks: bool) -> str | None:
    """`value` without surrounding spaces, if it is 1..length characters of printable
    text, else None (a line break or tab at either end is refused, not trimmed)."""
    text = value.strip(" ")
    allowed = {"\n"} if allow_line_breaks else set()
    if not 1 <= len(text) <= length:
        return None
    if any(not char.isprintable() and char not in allowed for char in text):
        return None
    return text


def _valid_name(name: str, locale: str) -> str:
    cleaned = _clean_text(name, length=NAME_LENGTH, allow_line_breaks=False)
    if cleaned is None:
        raise InvalidSegmentName(locale, max_length=NAME_LENGTH)
    return cleaned


def _valid_description(description: str | None, locale: str) -> str | None:
    if description is None or not description.strip(" "):
        return None
    cleaned = _clean_text(description, length=DESCRIPTION_LENGTH, allow_line_breaks=True)
    if cleaned is None:
        raise InvalidSegment(locale, fields="description")
    return cleaned


async def _check_references(session: AsyncSession, definition: SegmentDefinition,
                            locale: str) -> None:
    """Tag and store ids a saved definition names must exist."""
    tags = definition.tags
    tag_ids = set(tags.all_of + tags.any_of + tags.none_of) if tags else set()
    if tag_ids:
        known = set((await session.scalars(select(Tag.id).where(Tag.id.in_(tag_ids)))).all())
        if known != tag_ids:
            raise InvalidSegment(locale, fields="tags")
    if definition.store and await session.get(Store, definition.store.id) is None:
        raise InvalidSegment(locale, fields="store.id")


async def _check_name_free(session: AsyncSession, name: str, locale: str,
                           segment_id: int | None = None) -> None:
    taken = select(Segment.id).where(Segment.name == name)
    if segment_id is not None:
        taken = taken.where(Segment.id != segment_id)
    if await session.scalar(select(exists(taken))):
        raise SegmentNameTaken(locale)


async def create_segment(session: AsyncSession, *, name: str, definition: Any,
                         description: str | None = None, staff_id: int | None = None,
                         locale: str = "zh-TW") -> Segment:
    """A new saved segment. `definition` is JSON data (or a SegmentDefinition); refused
    with InvalidSegment / InvalidSegmentName (422) or SegmentNameTaken (409)."""
    parsed = _as_definition(definition, locale)
    clean_name = _valid_name(name, locale)
    clean_description = _valid_description(description, locale)
    await _check_references(session, parsed, locale)
    await _check_name_free(session, clean_name, locale)
    now = utcnow()
    segment = Segment(name=clean_name, description=clean_description,
                      definition=_stored(parsed), created_by_staff_id=staff_id,
                      created_at=now, updated_at=now)
    session.add(segment)
    await session.flush()
    return segment


async def update_segment(session: AsyncSession, segment_id: int, *, name: str,
                         definition: Any, description: str | None = None,
                         locale: str = "zh-TW") -> Segment:
    """Replaces a saved segment's name, description and definition (refused as
    create_segment refuses; NotFound for an unknown id)."""
    segment = await get_segment(session, segment_id, locale=locale)
    parsed = _as_definition(definition, locale)
    clean_name = _valid_name(name, locale)
    clean_description = _valid_description(description, locale)
    await _check_references(session, parsed, locale)
    await _check_name_free(session, clean_name, locale, segment_id)
    segment.name, segment.description = clean_name, clean_description
    segment.definition = _stored(parsed)
    segment.updated_at = utcnow()
    await session.flush()
    return segment


async def delete_segment(session: AsyncSession, segment_id: int, *,
                         locale: str = "zh-TW") -> None:
    await session.delete(await get_segment(session, segment_id, locale=locale))
    await session.flush()


async def get_segment(session: AsyncSession, segment_id: int, *,
                      locale: str = "zh-TW") -> Segment:
    segment = await session.get(Segment, segment_id)
    if segment is None:
        raise NotFound(locale)
    return segment


async def list_segments(session: AsyncSession) -> list[Segment]:
    """Every saved segment, by name."""
    return list((await session.scalars(select(Segment).order_by(Segment.name))).all())


def saved_definition(segment: Segment) -> SegmentDefinition:
    """A saved segment's definition (validated when it was saved)."""
    return SegmentDefinition.model_validate(segment.definition)


def _as_definition(definition: Any, locale: str) -> SegmentDefinition:
    if isinstance(definition, SegmentDefinition):
        return definition
    return parse_definition(definition, locale)


def _stored(definition: SegmentDefinition) -> dict[str, Any]:
    # Only what was given: a stored definition reads like the one the marketer wrote.
    stored: dict[str, Any] = definition.model_dump(mode="json", exclude_defaults=True)
    return stored
