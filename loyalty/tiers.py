"""Tier rules: a member's tier follows their visits (or spend) over a rolling 12 months
(loyalty.tier_evaluation moves members up and down). The rules live in the program:

    {"measure": "visits" | "spend",
     "levels": [{"key": "silver", "min": 5, "name": {"zh-TW": "銀卡", "en": "Silver"}},
                {"key": "gold", "min": 12, "name": {...}}]}

"min" counts visits, or minor units spent, in the last 365 days."""

from datetime import timedelta
from typing import Any

from loyalty.errors import InvalidProgram
from loyalty.models import Program

TIER_WINDOW = timedelta(days=365)
MEASURES = ("visits", "spend")


def validate_tier_rules(rules: Any, locale: str = "zh-TW") -> None:
    if not isinstance(rules, dict) or rules.get("measure") not in MEASURES:
        raise InvalidProgram(locale, rule="tier_rules")
    levels = rules.get("levels")
    if not isinstance(levels, list) or not levels:
        raise InvalidProgram(locale, rule="tier_rules")
    for level in levels:
        if not isinstance(level, dict) or not isinstance(level.get("key"), str):
            raise InvalidProgram(locale, rule="tier_rules")
        if not isinstance(level.get("min"), int) or level["min"] < 1:
            raise InvalidProgram(locale, rule="tier_rules")


def tier_name(program: Program, key: str | None, locale: str) -> str | None:
    """The display name of tier `key` under `program`'s rules (the key if unnamed)."""
    if key is None:
        return None
    for level in (program.tier_rules or {}).get("levels", []):
        if level["key"] == key:
            names = level.get("name") or {}
            return names.get(locale) or names.get("zh-TW") or key
    return key


def tier_for(rules: dict[str, Any] | None, measured: int) -> str | None:
    """The highest level whose minimum `measured` reaches, or None."""
    reached = [level for level in (rules or {}).get("levels", []) if measured >= level["min"]]
    return max(reached, key=lambda level: level["min"])["key"] if reached else None
