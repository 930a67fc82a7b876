"""What the counter core (loyalty.counter) answers, shaped for the staff page's script:
labels in the staff's language, times in the store's time zone."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from core.i18n import t
from loyalty.counter import CounterOutcome, RecentAction
from loyalty.member_card import MemberCard
from loyalty.tags import MemberTagView

_DATE = "%Y/%m/%d"
_TIME = "%H:%M"
_DAY_TIME = "%m/%d %H:%M"
_HISTORY_KINDS = ("stamp", "reward_redeemed")


def _local(moment: datetime, timezone: str, pattern: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime(pattern)


def _when(moment: datetime, timezone: str, now: datetime) -> str:
    """Short, for a glance: the time today, the day and time this year, else the date."""
    zone = ZoneInfo(timezone)
    there, today = moment.astimezone(zone), now.astimezone(zone)
    if there.date() == today.date():
        return there.strftime(_TIME)
    return there.strftime(_DAY_TIME if there.year == today.year else _DATE)


def member_view(
    card: MemberCard, *, locale: str, timezone: str, now: datetime
) -> dict[str, Any]:
    last_visit = (
        t("staff.counter.last_visit", locale, when=_when(card.last_visit_at, timezone, now))
        if card.last_visit_at
        else t("staff.counter.first_visit", locale)
    )
    return {
        "id": card.member_id,
        "name": card.display_name or t("card.member_fallback_name", locale),
        "tier": card.tier or t("staff.counter.tier_default", locale),
        "stamps": card.stamps,
        "stamps_required": card.stamps_required,
        "progress": t("staff.counter.stamps", locale, stamps=card.stamps,
                      required=card.stamps_required),
        "last_visit": last_visit,
        "rewards": [
            {
                "id": reward.id,
                "name": reward.name,
                "expires": t("staff.counter.reward_expires", locale,
                             date=_local(reward.expires_at, timezone, _DATE))
                if reward.expires_at
                else None,
            }
            for reward in card.rewards_available
        ],
    }


def adjustment_message(stamps: int, card: MemberCard, *, locale: str) -> str:
    """「已補 2 點，目前 3 / 5 點」: what the adjustment did and where the card stands."""
    key = "staff.adjust.added" if stamps > 0 else "staff.adjust.removed"
    return t(key, locale, count=abs(stamps), stamps=card.stamps, required=card.stamps_required)


def outcome_view(
    outcome: CounterOutcome, *, locale: str, timezone: str, now: datetime
) -> dict[str, Any]:
    return {
        "kind": outcome.kind,
        "message": outcome.message,
        "entry_id": outcome.entry_id,
        "member": member_view(outcome.member, locale=locale, timezone=timezone, now=now),
    }


def recent_view(
    actions: list[RecentAction], *, locale: str, may_void: bool, timezone: str, now: datetime
) -> list[dict[str, Any]]:
    """The counter's history, one line each."""
    lines = []
    for action in actions:
        when = _when(action.created_at, timezone, now)
        name = action.display_name or t("card.member_fallback_name", locale)
        kind = action.kind if action.kind in _HISTORY_KINDS else "other"
        lines.append({
            "entry_id": action.entry_id,
            "label": t(f"staff.history.{kind}", locale, when=when, name=name, stamps=action.stamps),
            "voided": action.voided,
            "voidable": may_void and not action.voided,
        })
    return lines


def tags_view(views: list[MemberTagView], *, locale: str) -> list[dict[str, str]]:
    """The member's tags as chips: the name, and where it came from on a second look."""
    chips = []
    for view in views:
        source = t(f"tags.source.{view.source}", locale)
        who = view.staff_name or view.rule_name or view.pos_key_prefix
        chips.append({"name": view.name,
                      "source": t("tags.source.by", locale, source=source, who=who)
                      if who else source})
    return chips
