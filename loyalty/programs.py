"""Program versions: the stamp rules in force at a moment. A change is a new version
from its start date; what members earned under an older version stays theirs."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.i18n import SUPPORTED_LOCALES, t
from loyalty.errors import InvalidProgram, NotFound
from loyalty.models import Program
from loyalty.tiers import validate_tier_rules

# A visit earns at most this many stamps unless the program says otherwise: a big
# spend on a spend-based program still issues a handful of rewards, not millions.
DEFAULT_MAX_STAMPS_PER_VISIT = 10
# The default program's start: before any member could exist.
DEFAULT_PROGRAM_START = datetime(2000, 1, 1, tzinfo=UTC)
RULE_NAMES = (
    "stamps_required",
    "reward_name",
    "cooldown_hours",
    "stamps_per_visit",
    "spend_per_stamp",
    "max_stamps_per_visit",
    "stamp_expiry_days",
    "reward_expiry_days",
    "welcome_stamps",
    "referral_reward",
    "birthday_reward",
    "tier_rules",
)


def default_program_rules() -> dict[str, Any]:
    """Three stamps for a free drink, a stamp per visit, 4 hours between stamps."""
    return {
        "stamps_required": 3,
        "reward_name": {
            locale: t("loyalty.reward.default", locale) for locale in SUPPORTED_LOCALES
        },
        "cooldown_hours": 4,
        "stamps_per_visit": 1,
        "spend_per_stamp": None,
        "max_stamps_per_visit": DEFAULT_MAX_STAMPS_PER_VISIT,
        "stamp_expiry_days": None,
        "reward_expiry_days": None,
        "welcome_stamps": 0,
        "referral_reward": False,
        "birthday_reward": False,
        "tier_rules": None,
    }


def reward_name(program: Program, locale: str) -> str:
    """The program's reward in `locale`, else in zh-TW, else the catalog's default."""
    names = program.reward_name or {}
    return names.get(locale) or names.get("zh-TW") or t("loyalty.reward.default", locale)


# The id of the version in force at the bound `now`, for queries built once that load
# the program along with what else they need.
CURRENT_PROGRAM_ID = (
    select(Program.id)
    .where(Program.starts_at <= bindparam("now"))
    .order_by(Program.starts_at.desc(), Program.id.desc())
    .limit(1)
    .scalar_subquery()
    .correlate(None)  # a subquery of its own, also inside a query of the program table
)


# The version in force at the bound `now` (the latest that has started), built once.
_PROGRAM_AT = (
    select(Program)
    .where(Program.starts_at <= bindparam("now"))
    .order_by(Program.starts_at.desc(), Program.id.desc())
    .limit(1)
)


async def current_program(session: AsyncSession, *, at: datetime) -> Program:
    """The program version in force at `at`."""
    program = (await session.execute(_PROGRAM_AT, {"now": at})).scalar_one_or_none()
    if program is None:
        raise NotFound("zh-TW")
    return program


async def set_program(
    session: AsyncSession, *, starts_at: datetime, locale: str = "zh-TW", **rules: Any
) -> Program:
    """A new program version from `starts_at`: the rules of the version in force then,
    with `rules` (any of RULE_NAMES) changed. Stamps and rewards already earned keep
    the version they were earned under; cooldown, stamps per visit and stamps required
    follow the version in force at each moment."""
    unknown = set(rules) - set(RULE_NAMES)
    if unknown:
        raise InvalidProgram(locale, rule=", ".join(sorted(unknown)))
    base = (await session.execute(_PROGRAM_AT, {"now": starts_at})).scalar_one_or_none()
    merged = default_program_rules()
    if base is not None:
        merged.update({name: getattr(base, name) for name in RULE_NAMES})
    merged.update(rules)
    _validate(merged, locale)
    program = Program(starts_at=starts_at, **merged)
    session.add(program)
    await session.flush()
    return program


def _validate(rules: dict[str, Any], locale: str) -> None:
    positive = ("stamps_required", "stamps_per_visit", "max_stamps_per_visit")
    for name in positive:
        if not isinstance(rules[name], int) or rules[name] < 1:
            raise InvalidProgram(locale, rule=name)
    at_least_zero = ("cooldown_hours", "welcome_stamps")
    for name in at_least_zero:
        if not isinstance(rules[name], int) or rules[name] < 0:
            raise InvalidProgram(locale, rule=name)
    optional_positive = ("spend_per_stamp", "stamp_expiry_days", "reward_expiry_days")
    for name in optional_positive:
        value = rules[name]
        if value is not None and (not isinstance(value, int) or value < 1):
            raise InvalidProgram(locale, rule=name)
    if rules["stamps_per_visit"] > rules["max_stamps_per_visit"]:
        raise InvalidProgram(locale, rule="stamps_per_visit")
    if not isinstance(rules["reward_name"], dict) or not rules["reward_name"]:
        raise InvalidProgram(locale, rule="reward_name")
    if rules["tier_rules"] is not None:
        validate_tier_rules(rules["tier_rules"], locale)
