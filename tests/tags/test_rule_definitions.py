"""Tag rules as data: each kind's condition is checked when saved; listing, updating,
deleting and previewing; keyword matching in English and Chinese."""

import pytest

from core.db import Database
from core.settings import RfmSegmentRule
from loyalty import tag_rules, tags
from loyalty.errors import NotFound
from loyalty.models import RfmScore
from loyalty.tag_rules import InvalidTagRule, KeywordCondition, keyword_matches
from tests.loyalty.factories import T0, add_member, open_shop


def rule(tag_id: int, kind: str, condition: dict, **fields) -> dict:
    return {"name": fields.pop("name", "a rule"), "kind": kind, "tag_id": tag_id,
            "condition": condition, **fields}


@pytest.mark.parametrize(("kind", "condition"), [
    ("keyword", {}),
    ("keyword", {"pattern": ""}),
    ("keyword", {"pattern": "   "}),
    ("keyword", {"pattern": "two\nlines"}),
    ("keyword", {"pattern": "x" * 201}),
    ("keyword", {"pattern": "(unclosed", "match": "regex"}),
    ("keyword", {"pattern": "latte", "match": "glob"}),
    ("keyword", {"pattern": "latte", "extra": 1}),
    ("event", {"event": "birthday"}),
    ("event", {"event": "opted_out", "store_id": 1}),
    ("event", {"event": "visited_store", "tier": "gold"}),
    ("event", {"event": "visited_store", "store_id": 2**40}),
    ("event", {"event": "visited_store", "store_id": 999}),
    ("event", {"event": "joined_via_referral", "referral_code": "no spaces!"}),
    ("rfm", {"segment": "Best Friends"}),
    ("rfm", {}),
    ("nonsense", {}),
])
async def test_malformed_conditions_are_refused_when_saved(db: Database, kind, condition):
    async with db.transaction() as session:
        tag = await tags.create_tag(session, name="t")
        with pytest.raises(InvalidTagRule) as refused:
            await tag_rules.create_rule(session, rule=rule(tag.id, kind, condition),
                                        staff_id=None, now=T0)
        assert refused.value.status_code == 422
        assert await tag_rules.list_rules(session) == []


async def test_rule_names_and_actions_are_checked_too(db: Database):
    async with db.transaction() as session:
        tag = await tags.create_tag(session, name="t")
        for bad in ({"name": "line\nbreak"}, {"name": ""}, {"action": "toggle"}):
            with pytest.raises(InvalidTagRule):
                await tag_rules.create_rule(
                    session, rule=rule(tag.id, "event", {"event": "redeemed"}, **bad),
                    staff_id=None, now=T0)
        with pytest.raises(NotFound):
            await tag_rules.create_rule(session, rule=rule(tag.id + 5, "event",
                                                           {"event": "redeemed"}),
                                        staff_id=None, now=T0)


async def test_an_rfm_rule_names_a_segment_of_the_configured_table_or_others(db: Database):
    table = [RfmSegmentRule(name="Fans", r=(3, 5), f=(3, 5), m=(1, 5))]
    async with db.transaction() as session:
        tag = await tags.create_tag(session, name="t")
        fans = await tag_rules.create_rule(session, rule=rule(tag.id, "rfm", {"segment": "Fans"}),
                                           staff_id=None, now=T0, rfm_segments=table)
        others = await tag_rules.create_rule(
            session, rule=rule(tag.id, "rfm", {"segment": "Others"}), staff_id=None, now=T0)
        with pytest.raises(InvalidTagRule):  # not in the default table
            await tag_rules.create_rule(session, rule=rule(tag.id, "rfm", {"segment": "Fans"}),
                                        staff_id=None, now=T0)
    assert (fans.condition, others.condition) == ({"segment": "Fans"}, {"segment": "Others"})


async def test_list_update_delete_and_the_history_keeps_a_deleted_rules_name(db: Database):
    shop = await open_shop(db)
    async with db.transaction() as session:
        tag = await tags.create_tag(session, name="daan")
        made = await tag_rules.create_rule(
            session, staff_id=shop.manager_id, now=T0,
            rule=rule(tag.id, "event", {"event": "visited_store", "store_id": shop.store_id},
                      name="Daan visitors"))
        await tag_rules.update_rule(
            session, rule_id=made.id, now=T0,
            rule=rule(tag.id, "event", {"event": "joined_via_referral",
                                        "referral_code": "ab12cd34"}, name="Amy's friends"))
        assert [(r.name, r.condition) for r in await tag_rules.list_rules(session)] == [
            ("Amy's friends", {"event": "joined_via_referral", "referral_code": "AB12CD34"})]
        await tags.add_tags(session, tag_id=tag.id, members=tags.one_member(shop.member_id),
                            by=tags.Tagger.rule(made), now=T0)
        await tag_rules.delete_rule(session, rule_id=made.id, now=T0)
        assert await tag_rules.list_rules(session) == []
        with pytest.raises(NotFound):
            await tag_rules.delete_rule(session, rule_id=made.id, now=T0)
        [kept] = await tags.member_tags(session, member_id=shop.member_id)
    assert (kept.source, kept.rule_name) == ("rule", "Amy's friends")


async def test_preview_counts_the_members_an_rfm_rule_would_change(db: Database):
    async with db.transaction() as session:
        tag = await tags.create_tag(session, name="lost")
        for index, segment in enumerate(["Lost", "Lost", "Champions"]):
            member = await add_member(session, name=f"M{index}")
            session.add(RfmScore(member_id=member.id, recency_days=1, frequency=1,
                                 monetary=1, r=1, f=1, m=1, segment=segment,
                                 as_of=T0.date(), computed_at=T0))
            if index == 0:
                await tags.add_tags(session, tag_id=tag.id, members=tags.one_member(member.id),
                                    by=tags.Tagger("manual"), now=T0)
        await session.flush()
        adds = await tag_rules.preview_rule(session, rule=rule(tag.id, "rfm",
                                                               {"segment": "Lost"}))
        removes = await tag_rules.preview_rule(
            session, rule=rule(tag.id, "rfm", {"segment": "Lost"}, action="remove"))
        keyword = await tag_rules.preview_rule(session, rule=rule(tag.id, "keyword",
                                                                  {"pattern": "x"}))
    assert (adds, removes, keyword) == (1, 1, None)


@pytest.mark.parametrize(("pattern", "match", "text", "found"), [
    ("latte", "word", "I'd like a LATTE, please", True),
    ("latte", "word", "two lattes", False),
    ("latte", "word", "我要latte", True),
    ("拿鐵", "word", "我要一杯熱拿鐵", True),
    ("VIP會員", "word", "我是VIP會員嗎", True),
    ("VIP會員", "word", "我是AVIP會員嗎", False),
    ("oat milk", "word", "oat\n  milk", True),
    ("c++", "word", "I code c++ daily", True),
    (r"\d{4}-\d{4}", "regex", "call 0912-3456", True),
    ("^hi$", "regex", "HI", True),
])
def test_keyword_matching(pattern, match, text, found):
    assert keyword_matches(KeywordCondition(pattern=pattern, match=match), text) is found


def test_only_the_start_of_a_long_message_is_matched():
    condition = KeywordCondition(pattern="latte")
    assert not keyword_matches(condition, "x " * tag_rules.MAX_MATCHED_TEXT + "latte")


def test_a_runaway_pattern_is_stopped_and_counts_as_no_match():
    condition = KeywordCondition(pattern="(a|aa)+$", match="regex")
    assert keyword_matches(condition, "a" * 1500 + "b") is False
