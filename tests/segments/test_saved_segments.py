"""Saved segments: create, read, list, update, delete; hostile definitions and names are
refused with a 422 (a taken name with a 409) and change nothing."""

from typing import Any

import pytest
from sqlalchemy import func, select

from core.db import Database
from loyalty.errors import InvalidSegment, InvalidSegmentName, NotFound, SegmentNameTaken
from loyalty.models import Segment, Tag
from loyalty.segments import (
    MAX_TAGS,
    create_segment,
    delete_segment,
    get_segment,
    list_segments,
    parse_definition,
    saved_definition,
    update_segment,
)
from loyalty.stores import create_store

HOSTILE_DEFINITIONS: dict[str, Any] = {
    "not an object": ["tags"],
    "null": None,
    "an unknown key": {"tags": {}, "everyone_rich": True},
    "an unknown key inside a filter": {"tags": {"some_of": [1]}},
    "too many tags": {"tags": {"all_of": list(range(1, MAX_TAGS + 2))}},
    "a tag id past 64 bits": {"tags": {"any_of": [2**64 + 1]}},
    "a tag id past 32 bits": {"tags": {"any_of": [2**31]}},
    "a tag id as text": {"tags": {"any_of": ["12"]}},
    "a tag id as a boolean": {"tags": {"none_of": [True]}},
    "a spend past 64 bits": {"spend": {"days": 30, "min": 2**70}},
    "a window of 10**30 days": {"visits": {"days": 10**30, "min": 1}},
    "a negative visit count": {"visits": {"days": 30, "min": -1}},
    "a window without bounds": {"visits": {"days": 30}},
    "bounds in the wrong order": {"spend": {"days": 30, "min": 500, "max": 100}},
    "a score of 6": {"rfm": {"r": {"min": 6}}},
    "a score range upside down": {"rfm": {"f": {"min": 5, "max": 1}}},
    "an RFM segment with a line break": {"rfm": {"segments": ["Lost\nDROP TABLE"]}},
    "a tier with control characters": {"tiers": ["gold\x1b[31m"]},
    "a language with a line break": {"locales": ["en\n"]},
    "an unknown platform": {"platforms": ["sms"]},
    "a month 13": {"birthday_months": [13]},
    "too many months": {"birthday_months": list(range(1, 13)) * 2},
    "a date in year 10000": {"last_visit_after": "10000-01-01"},
    "a date in year 1": {"joined_before": "0001-01-01"},
    "a date that is not one": {"joined_after": "2026-02-30"},
    "opt-in as text": {"marketing_opt_in": "yes"},
    "a store id of 0": {"store": {"id": 0}},
}


@pytest.mark.parametrize("raw", HOSTILE_DEFINITIONS.values(), ids=HOSTILE_DEFINITIONS.keys())
def test_a_hostile_definition_is_refused_with_a_422_naming_the_field(raw: Any) -> None:
    with pytest.raises(InvalidSegment) as refused:
        parse_definition(raw, "en")

    assert refused.value.status_code == 422
    assert refused.value.code == "invalid_segment"
    assert refused.value.message.startswith("The segment's conditions are not valid")


def test_the_refusal_names_the_fields_at_fault() -> None:
    with pytest.raises(InvalidSegment) as refused:
        parse_definition({"tags": {"any_of": [0]}, "birthday_months": [13]}, "en")

    assert "tags.any_of.0" in refused.value.message
    assert "birthday_months.0" in refused.value.message


HOSTILE_NAMES = {"empty": "", "blank": "   ", "too long": "x" * 101,
                 "a line break": "VIP\nDROP", "a carriage return": "VIP\r",
                 "a tab": "VIP\tclub", "an escape sequence": "\x1b[31mVIP",
                 "a line separator": "VIP\u2028club", "a NUL": "VIP\x00"}


@pytest.mark.parametrize("name", HOSTILE_NAMES.values(), ids=HOSTILE_NAMES.keys())
async def test_a_hostile_name_is_refused_and_nothing_is_saved(db: Database, name: str) -> None:
    async with db.transaction() as session:
        with pytest.raises(InvalidSegmentName) as refused:
            await create_segment(session, name=name, definition={})
        assert refused.value.status_code == 422
        assert await session.scalar(select(func.count()).select_from(Segment)) == 0


async def test_segments_are_created_read_listed_updated_and_deleted(db: Database) -> None:
    async with db.transaction() as session:
        tag = Tag(name="vip")
        session.add(tag)
        await session.flush()
        store = await create_store(session, name="Daan")
        lapsed = await create_segment(
            session, name="  熟客流失  ", description="Regulars who stopped\ncoming",
            definition={"tags": {"all_of": [tag.id]}, "last_visit_before": "2026-10-01"})
        await create_segment(session, name="Daan regulars",
                             definition={"store": {"id": store.id, "days": 90}})

    async with db.transaction() as session:
        found = await get_segment(session, lapsed.id)
        names = [segment.name for segment in await list_segments(session)]
        stored = found.definition
        definition = saved_definition(found)
    assert (found.name, found.description) == ("熟客流失", "Regulars who stopped\ncoming")
    assert names == ["Daan regulars", "熟客流失"]
    # Only what the marketer gave is stored.
    assert stored == {"tags": {"all_of": [tag.id]}, "last_visit_before": "2026-10-01"}
    assert definition == parse_definition(stored)

    async with db.transaction() as session:
        await update_segment(session, lapsed.id, name="Lapsed", description=None,
                             definition={"marketing_opt_in": True})
    async with db.transaction() as session:
        updated = await get_segment(session, lapsed.id)
        assert (updated.name, updated.description, updated.definition) == (
            "Lapsed", None, {"marketing_opt_in": True})
        await delete_segment(session, lapsed.id)
    async with db.transaction() as session:
        assert [segment.name for segment in await list_segments(session)] == ["Daan regulars"]
        with pytest.raises(NotFound) as missing:
            await get_segment(session, lapsed.id)
    assert missing.value.status_code == 404


async def test_a_taken_name_is_refused_with_a_409_on_create_and_on_update(
        db: Database) -> None:
    async with db.transaction() as session:
        await create_segment(session, name="VIP", definition={})
        other = await create_segment(session, name="Others", definition={})

    async with db.transaction() as session:
        with pytest.raises(SegmentNameTaken) as taken:
            await create_segment(session, name=" VIP ", definition={})
        assert taken.value.status_code == 409
        with pytest.raises(SegmentNameTaken):
            await update_segment(session, other.id, name="VIP", definition={})
        # Keeping its own name is not taking another's.
        await update_segment(session, other.id, name="Others", definition={"locales": ["en"]})


async def test_saving_refuses_tags_and_stores_that_do_not_exist(db: Database) -> None:
    async with db.transaction() as session:
        with pytest.raises(InvalidSegment, match="tags"):
            await create_segment(session, name="ghost tag",
                                 definition={"tags": {"none_of": [404]}})
        with pytest.raises(InvalidSegment, match="store"):
            await create_segment(session, name="ghost store", definition={"store": {"id": 404}})
        with pytest.raises(InvalidSegment):
            await create_segment(session, name="hostile", definition={"tiers": ["a\nb"]})
        assert await session.scalar(select(func.count()).select_from(Segment)) == 0


async def test_unknown_segment_ids_are_not_found_and_change_nothing(db: Database) -> None:
    async with db.transaction() as session:
        for action in (get_segment(session, 2**31 - 1), delete_segment(session, 404),
                       update_segment(session, 404, name="x", definition={})):
            with pytest.raises(NotFound):
                await action
        assert await session.scalar(select(func.count()).select_from(Segment)) == 0
