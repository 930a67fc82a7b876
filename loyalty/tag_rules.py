"""Tag rules: data a marketer edits (loyalty_tag_rule), not code. Each adds or removes
one tag when its condition holds:

- keyword: an inbound chat text matches a word or phrase (case-insensitive, whole words
  where the language spaces its words) or a regular expression;
- event: something happened to a member (joined through a referral or a store link,
  visited a store, redeemed, reached a tier, opted out of marketing);
- rfm: the member is in an RFM segment, kept in step after every recompute.

A rule's `condition` is checked by the pydantic model of its kind when saved
(docs/tags.md has the JSON). Keyword and event rules tag as source 'rule', RFM rules as
'rfm', each change naming its rule."""

import logging
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any, Literal

import regex
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy import Select, bindparam, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.bounds import MAX_ID
from core.settings import RfmSegmentRule
from loyalty.errors import LoyaltyError, NotFound
from loyalty.models import TAG_RULE_ACTIONS, TAG_RULE_KINDS, MemberTag, RfmScore, Store, TagRule
from loyalty.rfm import DEFAULT_SEGMENTS, OTHERS
from loyalty.tags import Tagger, add_tags, live_tag, one_member, remove_tags

log = logging.getLogger(__name__)

MAX_PATTERN_LENGTH = 200
MAX_RULE_NAME = 100
# Only the start of a long message is matched: a keyword is in what people type, and a
# bounded text bounds the work of every pattern.
MAX_MATCHED_TEXT = 2000
# A pattern that backtracks badly is stopped here (the regex package's timeout) and
# counts as no match, so one careless rule cannot stall the conversation.
MATCH_TIMEOUT_SECONDS = 0.05
EVENTS = ("joined_via_referral", "joined_via_store_link", "visited_store", "redeemed",
          "reached_tier", "opted_out")
# The optional detail each event's condition may name, and the MemberEvent field it
# is compared with.
_EVENT_DETAILS: dict[str, str | None] = {
    "joined_via_referral": "referral_code",
    "joined_via_store_link": "store_id",
    "visited_store": "store_id",
    "redeemed": "store_id",
    "reached_tier": "tier",
    "opted_out": None,
}
# A letter or digit of a script that spaces its words: a keyword edge made of one must
# not touch another (so "latte" is not found in "lattes"). Chinese, Japanese and Thai
# do not space words, so a keyword edge in them matches anywhere ("拿鐵" in "我要拿鐵").
_SPACED = r"[^\W\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}]"
_SPACED_CHAR = regex.compile(_SPACED)

RuleName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                            max_length=MAX_RULE_NAME,
                                            pattern=r"^[^\x00-\x1f\x7f\u2028\u2029]+$")]


class InvalidTagRule(LoyaltyError):
    """A rule whose kind, action, name or condition does not hold together."""

    code = "invalid_tag_rule"
    status_code = 422

    def __init__(self, locale: str = "zh-TW", *, reason: str) -> None:
        super().__init__(locale, reason=reason)


class _Condition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KeywordCondition(_Condition):
    pattern: str = Field(min_length=1, max_length=MAX_PATTERN_LENGTH)
    match: Literal["word", "regex"] = "word"

    @model_validator(mode="after")
    def _usable(self) -> "KeywordCondition":
        if not self.pattern.strip() or any(
                unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in self.pattern):
            raise ValueError("the pattern must be visible text on one line")
        try:
            _compiled(self.pattern, self.match)
        except regex.error as error:
            raise ValueError(f"not a regular expression: {error}") from None
        return self


class EventCondition(_Condition):
    event: Literal[EVENTS]  # type: ignore[valid-type]
    store_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    referral_code: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]{4,16}$")
    tier: str | None = Field(default=None, min_length=1, max_length=64)

    @field_validator("referral_code")
    @classmethod
    def _upper(cls, code: str | None) -> str | None:
        return code.upper() if code else code

    @model_validator(mode="after")
    def _details_fit_the_event(self) -> "EventCondition":
        allowed = _EVENT_DETAILS[self.event]
        for detail in ("store_id", "referral_code", "tier"):
            if detail != allowed and getattr(self, detail) is not None:
                raise ValueError(f"{self.event} takes no {detail}")
        return self

    def matches(self, event: "MemberEvent") -> bool:
        detail = _EVENT_DETAILS[self.event]
        if self.event != event.kind:
            return False
        return detail is None or getattr(self, detail) in (None, getattr(event, detail))


class RfmCondition(_Condition):
    segment: str = Field(min_length=1, max_length=64)


_CONDITIONS: dict[str, type[_Condition]] = {
    "keyword": KeywordCondition, "event": EventCondition, "rfm": RfmCondition,
}


class TagRuleInput(BaseModel):
    """A rule as the console submits it."""

    model_config = ConfigDict(extra="forbid")

    name: RuleName
    kind: Literal[TAG_RULE_KINDS]  # type: ignore[valid-type]
    action: Literal[TAG_RULE_ACTIONS] = "add"  # type: ignore[valid-type]
    tag_id: int = Field(ge=1, le=MAX_ID)
    condition: dict[str, Any]
    active: bool = True


@dataclass(frozen=True, slots=True)
class MemberEvent:
    """Something that happened to a member, for the event rules to judge."""

    kind: str  # one of EVENTS
    store_id: int | None = None
    referral_code: str | None = None  # the referrer's code, for joined_via_referral
    tier: str | None = None  # the tier key reached


@lru_cache(maxsize=512)
def _compiled(pattern: str, match: str) -> regex.Pattern[str]:
    if match == "regex":
        return regex.compile(pattern, regex.IGNORECASE | regex.VERSION0)
    words = r"\s+".join(regex.escape(word) for word in pattern.split())
    before = rf"(?<!{_SPACED})" if _SPACED_CHAR.match(pattern.strip()[0]) else ""
    after = rf"(?!{_SPACED})" if _SPACED_CHAR.match(pattern.strip()[-1]) else ""
    return regex.compile(before + words + after, regex.IGNORECASE)


def keyword_matches(condition: KeywordCondition, text: str) -> bool:
    """Whether the text (its first MAX_MATCHED_TEXT characters) matches; a match that
    runs past MATCH_TIMEOUT_SECONDS counts as none."""
    try:
        return _compiled(condition.pattern, condition.match).search(
            text[:MAX_MATCHED_TEXT], timeout=MATCH_TIMEOUT_SECONDS) is not None
    except TimeoutError:
        log.warning("keyword pattern %r timed out", condition.pattern)
        return False


def segment_names(rules: Sequence[RfmSegmentRule] | None) -> list[str]:
    """The segments an RFM rule may name: the setting's table (or the default), and
    Others."""
    names = [rule.name for rule in (rules or DEFAULT_SEGMENTS)]
    return list(dict.fromkeys([*names, OTHERS]))


# ---- rules as data --------------------------------------------------------------------


async def list_rules(session: AsyncSession, *, kind: str | None = None) -> list[TagRule]:
    """Every rule not deleted, by name."""
    query = select(TagRule).where(TagRule.deleted_at.is_(None)).order_by(TagRule.name,
                                                                          TagRule.id)
    if kind is not None:
        query = query.where(TagRule.kind == kind)
    return list((await session.scalars(query)).all())


async def create_rule(session: AsyncSession, *, rule: dict[str, Any] | TagRuleInput,
                      staff_id: int | None, now: datetime,
                      rfm_segments: Sequence[RfmSegmentRule] | None = None,
                      locale: str = "zh-TW") -> TagRule:
    """Saves a new rule after checking it. Refusals: invalid_tag_rule, not_found (tag)."""
    checked, condition = await _checked(session, rule, rfm_segments, locale)
    row = TagRule(name=checked.name, kind=checked.kind, action=checked.action,
                  tag_id=checked.tag_id, condition=condition, active=checked.active,
                  created_by_staff_id=staff_id, created_at=now, updated_at=now)
    session.add(row)
    await session.flush()
    return row


async def update_rule(session: AsyncSession, *, rule_id: int,
                      rule: dict[str, Any] | TagRuleInput, now: datetime,
                      rfm_segments: Sequence[RfmSegmentRule] | None = None,
                      locale: str = "zh-TW") -> TagRule:
    """Replaces a rule's fields; what it already tagged stays. Refusals: not_found,
    invalid_tag_rule."""
    row = await live_rule(session, rule_id, locale)
    checked, condition = await _checked(session, rule, rfm_segments, locale)
    row.name, row.kind, row.action = checked.name, checked.kind, checked.action
    row.tag_id, row.condition, row.active = checked.tag_id, condition, checked.active
    row.updated_at = now
    await session.flush()
    return row


async def delete_rule(session: AsyncSession, *, rule_id: int, now: datetime,
                      locale: str = "zh-TW") -> None:
    """Retires a rule; the tags it gave stay, and the history keeps naming it.
    Refusals: not_found."""
    row = await live_rule(session, rule_id, locale)
    row.deleted_at, row.active, row.updated_at = now, False, now
    await session.flush()


async def preview_rule(session: AsyncSession, *, rule: dict[str, Any] | TagRuleInput,
                       rfm_segments: Sequence[RfmSegmentRule] | None = None,
                       locale: str = "zh-TW") -> int | None:
    """How many members an RFM rule would change now; None for keyword and event rules,
    which act on what happens from now on. Refusals: invalid_tag_rule, not_found."""
    checked, condition = await _checked(session, rule, rfm_segments, locale)
    if checked.kind != "rfm":
        return None
    in_segment = RfmScore.segment == condition["segment"]
    has_tag = select(MemberTag.member_id).where(MemberTag.tag_id == checked.tag_id,
                                                MemberTag.member_id == RfmScore.member_id)
    touched = ~has_tag.exists() if checked.action == "add" else has_tag.exists()
    return await session.scalar(
        select(func.count()).select_from(RfmScore).where(in_segment, touched)) or 0


async def _checked(session: AsyncSession, rule: dict[str, Any] | TagRuleInput,
                   rfm_segments: Sequence[RfmSegmentRule] | None,
                   locale: str) -> tuple[TagRuleInput, dict[str, Any]]:
    try:
        checked = rule if isinstance(rule, TagRuleInput) else TagRuleInput.model_validate(rule)
        condition = _CONDITIONS[checked.kind].model_validate(checked.condition)
    except ValidationError as error:
        raise InvalidTagRule(locale, reason=_reason(error)) from None
    if isinstance(condition, RfmCondition) and \
            condition.segment not in segment_names(rfm_segments):
        raise InvalidTagRule(locale, reason=f"no RFM segment {condition.segment!r}")
    if isinstance(condition, EventCondition) and condition.store_id is not None and \
            await session.get(Store, condition.store_id) is None:
        raise InvalidTagRule(locale, reason=f"no store {condition.store_id}")
    await live_tag(session, tag_id=checked.tag_id, locale=locale)
    return checked, condition.model_dump(exclude_none=True)


def _reason(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else first["msg"]


async def live_rule(session: AsyncSession, rule_id: int, locale: str) -> TagRule:
    """The rule of that id, unless unknown or deleted (NotFound)."""
    row = await session.get(TagRule, rule_id)
    if row is None or row.deleted_at is not None:
        raise NotFound(locale)
    return row


# ---- evaluation -------------------------------------------------------------------------

# Built once: run on every inbound text and every counter action.
_ACTIVE_RULES = select(TagRule).where(TagRule.kind == bindparam("kind"),
                                      TagRule.active.is_(True),
                                      TagRule.deleted_at.is_(None)).order_by(TagRule.id)


async def _active(session: AsyncSession, kind: str) -> Sequence[TagRule]:
    return (await session.scalars(_ACTIVE_RULES, {"kind": kind})).all()


async def _apply(session: AsyncSession, rules: Collection[TagRule], members: Select[int],
                 now: datetime) -> int:
    """Applies each rule's action to the members selected; returns the changes made."""
    changed = 0
    for rule in rules:
        by = Tagger.rule(rule)
        if rule.action == "add":
            changed += await add_tags(session, tag_id=rule.tag_id, members=members, by=by,
                                      now=now)
        else:
            changed += await remove_tags(
                session, where=(MemberTag.tag_id == rule.tag_id)
                & MemberTag.member_id.in_(members.scalar_subquery()), by=by, now=now)
    return changed


async def apply_keyword_rules(session: AsyncSession, *, member_id: int, text: str,
                              now: datetime) -> int:
    """Applies the active keyword rules the member's inbound text matches; returns the
    tag changes made."""
    matched = [rule for rule in await _active(session, "keyword")
               if keyword_matches(KeywordCondition.model_validate(rule.condition), text)]
    return await _apply(session, matched, one_member(member_id), now)


async def apply_event_rules(session: AsyncSession, *, event: MemberEvent,
                            members: Select[int], now: datetime) -> int:
    """Applies the active event rules `event` satisfies to the members selected;
    returns the tag changes made."""
    matched = [rule for rule in await _active(session, "event")
               if EventCondition.model_validate(rule.condition).matches(event)]
    return await _apply(session, matched, members, now)


async def member_event(session: AsyncSession, *, member_id: int, event: MemberEvent,
                       now: datetime) -> int:
    """apply_event_rules for one member."""
    return await apply_event_rules(session, event=event, members=one_member(member_id),
                                   now=now)


@dataclass(frozen=True, slots=True)
class RfmTagSync:
    added: int
    removed: int


async def sync_rfm_tags(session: AsyncSession, *, now: datetime) -> RfmTagSync:
    """Keeps each active RFM rule's tag in step with the current scores (run right after
    loyalty.rfm.recompute_scores, in its transaction): an 'add' rule tags the members
    now in its segment and untags those who left it, where this rule had tagged them;
    a 'remove' rule untags the members in its segment. Set-based, each change recorded."""
    added = removed = 0
    for rule in await _active(session, "rfm"):
        segment = RfmCondition.model_validate(rule.condition).segment
        members = select(RfmScore.member_id).where(RfmScore.segment == segment)
        if rule.action == "remove":
            removed += await _apply(session, [rule], members, now)
            continue
        added += await add_tags(session, tag_id=rule.tag_id, members=members,
                                by=Tagger.rule(rule), now=now)
        left = ~exists().where(RfmScore.member_id == MemberTag.member_id,
                               RfmScore.segment == segment)
        removed += await remove_tags(
            session, where=(MemberTag.tag_id == rule.tag_id) & (MemberTag.source == "rfm")
            & (MemberTag.rule_id == rule.id) & left, by=Tagger.rule(rule), now=now)
    return RfmTagSync(added=added, removed=removed)
