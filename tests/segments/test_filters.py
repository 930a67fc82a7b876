"""Each filter of a segment definition alone, then together, against the hand-built
members of tests/segments/population.py (whose table gives every expectation)."""

from collections.abc import Callable
from typing import Any

import pytest

from core.db import Database
from loyalty.segments import parse_definition, segment_sample, segment_size
from tests.segments.population import LIVING, NOW, Population, populate, segment_names

Case = tuple[Callable[[Population], dict[str, Any]], set[str]]

CASES: dict[str, list[Case]] = {
    "tags": [
        (lambda p: {"tags": {"all_of": [p.tags["vip"], p.tags["coffee"]]}}, {"Ann"}),
        (lambda p: {"tags": {"all_of": [p.tags["coffee"]]}}, {"Ann", "Ben"}),
        (lambda p: {"tags": {"any_of": [p.tags["vip"], p.tags["tea"]]}}, {"Ann", "Cat"}),
        (lambda p: {"tags": {"none_of": [p.tags["coffee"]]}}, {"Cat", "Dan", "Fay"}),
        (lambda p: {"tags": {"none_of": [p.tags["coffee"], p.tags["tea"]]}}, {"Dan", "Fay"}),
        (lambda p: {"tags": {"any_of": [p.tags["coffee"]], "none_of": [p.tags["vip"]]}},
         {"Ben"}),
    ],
    "rfm": [
        (lambda p: {"rfm": {"segments": ["At Risk", "Lost"]}}, {"Ben", "Dan"}),
        (lambda p: {"rfm": {"r": {"min": 4}}}, {"Ann"}),
        (lambda p: {"rfm": {"f": {"max": 1}, "m": {"min": 3, "max": 5}}}, {"Dan"}),
        (lambda p: {"rfm": {}}, {"Ann", "Ben", "Dan"}),  # scored at all
    ],
    "last visit": [
        # Fay's visit at 00:10 on the 23rd in Taipei is still the 22nd in UTC.
        (lambda p: {"last_visit_after": "2026-11-23"}, {"Fay"}),
        (lambda p: {"last_visit_after": "2026-11-01"}, {"Ann", "Fay"}),
        # Dan's stamp of the 22nd was voided: his last visit is from 2025.
        (lambda p: {"last_visit_before": "2026-06-01"}, {"Ben", "Dan"}),
        (lambda p: {"last_visit_before": "2026-11-23"}, {"Ann", "Ben", "Dan"}),
        (lambda p: {"last_visit_after": "2026-01-01", "last_visit_before": "2026-11-20"},
         {"Ben"}),
    ],
    "visits in a window": [
        (lambda p: {"visits": {"days": 90, "min": 2}}, {"Ann"}),
        (lambda p: {"visits": {"days": 365, "max": 0}}, {"Cat", "Dan"}),
        (lambda p: {"visits": {"days": 365, "min": 1, "max": 1}}, {"Ben", "Fay"}),
        (lambda p: {"visits": {"days": 1, "min": 1}}, {"Fay"}),  # today only
    ],
    "spend in a window": [
        (lambda p: {"spend": {"days": 365, "min": 500}}, {"Ann"}),
        (lambda p: {"spend": {"days": 365, "max": 100}}, {"Cat", "Dan", "Fay"}),
        (lambda p: {"spend": {"days": 3650, "min": 10000}}, {"Dan"}),
    ],
    "store": [
        (lambda p: {"store": {"id": p.stores["Xinyi"]}}, {"Ben", "Fay"}),
        (lambda p: {"store": {"id": p.stores["Daan"]}}, {"Ann", "Dan"}),
        (lambda p: {"store": {"id": p.stores["Daan"], "days": 30}}, {"Ann"}),
    ],
    "platform": [
        (lambda p: {"platforms": ["messenger"]}, {"Ben", "Cat"}),
        (lambda p: {"platforms": ["line"]}, {"Ann", "Cat", "Fay"}),
        (lambda p: {"platforms": ["line", "messenger"]}, {"Ann", "Ben", "Cat", "Fay"}),
    ],
    "language": [
        (lambda p: {"locales": ["en", "ja"]}, {"Ben", "Dan"}),
        (lambda p: {"locales": ["zh-TW"]}, {"Ann", "Cat", "Fay"}),
    ],
    "joined": [
        # Cat joined at 00:30 on the 23rd in Taipei (the 22nd in UTC).
        (lambda p: {"joined_after": "2026-11-23"}, {"Cat"}),
        (lambda p: {"joined_before": "2026-09-01"}, {"Ann", "Ben", "Dan"}),
        (lambda p: {"joined_after": "2026-09-01", "joined_before": "2026-11-23"}, {"Fay"}),
    ],
    "tier": [
        (lambda p: {"tiers": ["gold"]}, {"Ann"}),
        (lambda p: {"tiers": ["gold", "silver"]}, {"Ann", "Ben"}),
    ],
    "birthday month": [
        (lambda p: {"birthday_months": [3]}, {"Ann"}),
        (lambda p: {"birthday_months": [11, 12]}, {"Ben"}),
    ],
    "marketing opt-in": [
        (lambda p: {"marketing_opt_in": True}, {"Ann", "Cat", "Dan"}),
        (lambda p: {"marketing_opt_in": False}, {"Ben", "Fay"}),
    ],
}


@pytest.mark.parametrize("kind", CASES)
async def test_each_filter_alone_selects_exactly_the_members_worked_out_by_hand(
        db: Database, kind: str) -> None:
    population = await populate(db)

    found = [await segment_names(db, population, build(population)) for build, _ in CASES[kind]]

    assert found == [expected for _, expected in CASES[kind]]


async def test_an_empty_definition_or_empty_lists_select_every_member_not_erased(
        db: Database) -> None:
    population = await populate(db)

    assert await segment_names(db, population, {}) == LIVING
    assert await segment_names(db, population, {
        "tags": {"all_of": [], "any_of": [], "none_of": []}, "platforms": [], "locales": [],
        "tiers": [], "birthday_months": []}) == LIVING


async def test_filters_of_different_kinds_must_all_hold(db: Database) -> None:
    population = await populate(db)
    tags = population.tags

    coffee_opted_in = {"tags": {"any_of": [tags["coffee"]]}, "marketing_opt_in": True}
    line_light_chinese = {"platforms": ["line"], "visits": {"days": 365, "max": 1},
                          "locales": ["zh-TW"]}
    five = {"tags": {"none_of": [tags["vip"]]}, "platforms": ["line"],
            "store": {"id": population.stores["Xinyi"], "days": 7},
            "joined_after": "2026-09-01", "marketing_opt_in": False}

    assert await segment_names(db, population, coffee_opted_in) == {"Ann"}
    assert await segment_names(db, population, line_light_chinese) == {"Cat", "Fay"}
    assert await segment_names(db, population, five) == {"Fay"}
    assert await segment_names(db, population, {**five, "marketing_opt_in": True}) == set()


async def test_an_erased_member_is_in_no_segment_whatever_they_match(db: Database) -> None:
    population = await populate(db)

    eve_matches = {"tags": {"all_of": [population.tags["vip"], population.tags["tea"]]},
                   "tiers": ["gold"], "rfm": {"segments": ["Champions"], "f": {"min": 5}}}

    assert await segment_names(db, population, eve_matches) == set()


async def test_a_tag_id_no_tag_has_matches_nobody_and_excludes_nobody(db: Database) -> None:
    population = await populate(db)

    assert await segment_names(db, population, {"tags": {"any_of": [999]}}) == set()
    assert await segment_names(db, population, {"tags": {"none_of": [999]}}) == LIVING


async def test_size_counts_and_sample_shows_the_newest_members_of_the_segment(
        db: Database) -> None:
    population = await populate(db)
    coffee_or_tea = parse_definition(
        {"tags": {"any_of": [population.tags["coffee"], population.tags["tea"]]}})

    async with db.transaction() as session:
        size = await segment_size(session, coffee_or_tea, now=NOW, timezone="Asia/Taipei")
        sample = await segment_sample(session, coffee_or_tea, now=NOW, timezone="Asia/Taipei",
                                      limit=2)
        everyone = await segment_sample(session, parse_definition({}), now=NOW,
                                        timezone="Asia/Taipei", limit=10**9)

    assert size == 3
    assert [(member.name, member.member_key) for member in sample] == [
        ("Cat", "key-Cat"), ("Ann", "key-Ann")]
    assert sample[0].id == population.members["Cat"]
    assert {member.name for member in everyone} == LIVING
