"""The same definition selects the same members on SQLite and on PostgreSQL: random
combinations of every filter, over the hand-built members of population.py."""

import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from core.db import Database
from tests import databases
from tests.segments.population import Population, populate, segment_names

EDGE_DAYS = ("2024-01-01", "2025-06-01", "2026-05-01", "2026-06-01", "2026-09-01",
             "2026-11-01", "2026-11-20", "2026-11-22", "2026-11-23", "2026-11-24")
WINDOWS = (1, 2, 3, 7, 30, 90, 365, 3650)


def random_definition(choose: random.Random, population: Population) -> dict[str, Any]:
    """One to four filters of different kinds, with values around the members' own."""
    tag_ids = [*population.tags.values(), 999]

    def some(values: list[Any] | tuple[Any, ...]) -> list[Any]:
        return choose.sample(list(values), choose.randint(1, min(3, len(values))))

    def bounds(top: int) -> dict[str, int]:
        low, high = sorted(choose.randint(0, top) for _ in range(2))
        return choose.choice(({"min": low}, {"max": high}, {"min": low, "max": high}))

    kinds = {
        "tags": lambda: {choose.choice(("all_of", "any_of", "none_of")): some(tag_ids)},
        "rfm": lambda: choose.choice(({"segments": some(("Champions", "At Risk", "Lost"))},
                                      {"r": {"min": choose.randint(1, 5)}},
                                      {"m": {"max": choose.randint(1, 5)}})),
        "last_visit_after": lambda: choose.choice(EDGE_DAYS),
        "last_visit_before": lambda: choose.choice(EDGE_DAYS),
        "visits": lambda: {"days": choose.choice(WINDOWS), **bounds(3)},
        "spend": lambda: {"days": choose.choice(WINDOWS), **bounds(1000)},
        "store": lambda: {"id": choose.choice(list(population.stores.values())),
                          **({"days": choose.choice(WINDOWS)} if choose.random() < 0.5 else {})},
        "platforms": lambda: some(("line", "messenger")),
        "locales": lambda: some(("zh-TW", "en", "ja")),
        "joined_after": lambda: choose.choice(EDGE_DAYS),
        "joined_before": lambda: choose.choice(EDGE_DAYS),
        "tiers": lambda: some(("gold", "silver", "bronze")),
        "birthday_months": lambda: some(tuple(range(1, 13))),
        "marketing_opt_in": lambda: choose.random() < 0.5,
    }
    return {kind: kinds[kind]() for kind in choose.sample(list(kinds), choose.randint(1, 4))}


@pytest.fixture
async def both(sqlite_template: Path, tmp_path: Path,
               postgres_url: str) -> AsyncIterator[tuple[Database, Database]]:
    lite = Database(databases.fresh_sqlite_url(sqlite_template, tmp_path))
    postgres = Database(postgres_url)
    yield lite, postgres
    await databases.empty_postgres_tables(postgres)
    await databases.reseed_defaults(postgres)
    await lite.dispose()
    await postgres.dispose()


async def test_random_definitions_select_the_same_members_on_both_databases(
        both: tuple[Database, Database]) -> None:
    lite, postgres = both
    population = await populate(lite)
    # Both number rows from 1: the same ids name the same tags, stores and members.
    assert await populate(postgres) == population
    choose = random.Random(7)
    definitions = [random_definition(choose, population) for _ in range(150)]

    found_lite = [await segment_names(lite, population, raw) for raw in definitions]
    found_postgres = [await segment_names(postgres, population, raw) for raw in definitions]

    assert found_lite == found_postgres
    # Not vacuous: the definitions select many different groups of members.
    assert len({frozenset(names) for names in found_lite}) >= 20

