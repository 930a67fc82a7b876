"""Visit, redemption and tier rules proved through the real POS API and the nightly
upkeep; RFM rules through the nightly recompute and `punchline rfm recompute`."""

import asyncio
from datetime import timedelta

from sqlalchemy import select
from typer.testing import CliRunner

import cli
from broadcast.jobs import find_job
from cards.models import Member
from core.clock import utcnow
from core.db import Database
from loyalty import tags
from loyalty.models import MemberTag, Tag
from loyalty.programs import set_program
from loyalty.tags import Tagger
from tests.imports.test_cli import add_store
from tests.imports.test_cli import history as history_file
from tests.loyalty.test_rfm import history as rfm_history
from tests.loyalty.test_rfm import local
from tests.pos_api.shop import open_shop
from tests.tags.rules import add_rule, history_of, tags_of

TIERS = {"measure": "visits", "levels": [
    {"key": "silver", "min": 2, "name": {"zh-TW": "銀卡", "en": "Silver"}},
    {"key": "gold", "min": 3, "name": {"zh-TW": "金卡", "en": "Gold"}}]}


async def test_a_pos_visit_tags_by_the_store_visited(db, settings):
    async with open_shop(db, settings) as shop:
        other_store, other_key = await shop.add_store_key("Xinyi")
        await add_rule(db, "event", {"event": "visited_store", "store_id": shop.store_id},
                       tag="daan regular")
        await add_rule(db, "event", {"event": "visited_store"}, tag="visitor")
        amy = await shop.add_member(line="U-amy")
        bob = await shop.add_member(name="Bob", line="U-bob")
        assert (await shop.visit({"token": shop.token(amy)})).status_code == 201
        assert (await shop.visit({"token": shop.token(bob)}, key=other_key)).status_code == 201
        refused = await shop.visit({"token": shop.token(amy)})  # the cooldown
    assert refused.status_code == 409
    assert await tags_of(db, amy) == {"daan regular": "rule", "visitor": "rule"}
    assert await tags_of(db, bob) == {"visitor": "rule"}
    assert len(await history_of(db, amy)) == 2  # the refused visit tagged nothing


async def test_a_pos_redemption_tags_the_member(db, settings):
    async with open_shop(db, settings) as shop:
        await add_rule(db, "event", {"event": "redeemed"}, tag="redeemer")
        amy = await shop.add_member(line="U-amy")
        filled = await shop.fill_card(amy)
        assert await tags_of(db, amy) == {}
        [reward] = filled["rewards_issued"]
        redeemed = await shop.redeem({"token": shop.token(amy), "reward_id": reward["id"]})
        again = await shop.redeem({"token": shop.token(amy), "reward_id": reward["id"]})
    assert (redeemed.status_code, again.status_code) == (201, 409)
    assert await history_of(db, amy) == [("redeemer", "add", "rule", "event redeemer")]


async def test_reaching_a_tier_in_the_nightly_upkeep_tags_the_member(db, settings):
    async with db.transaction() as session:
        await set_program(session, starts_at=utcnow() - timedelta(days=1), tier_rules=TIERS)
    await add_rule(db, "event", {"event": "reached_tier", "tier": "gold"}, tag="gold")
    await add_rule(db, "event", {"event": "reached_tier"}, tag="climber")
    async with open_shop(db, settings) as shop:
        amy = await shop.add_member(line="U-amy")
        bob = await shop.add_member(name="Bob", line="U-bob")
        await shop.fill_card(amy, visits=3)
        await shop.fill_card(bob, visits=2)
    upkeep = find_job("loyalty-upkeep")
    assert upkeep is not None
    await upkeep.work(db, utcnow(), "Asia/Taipei")
    assert await tags_of(db, amy) == {"gold": "rule", "climber": "rule"}
    assert await tags_of(db, bob) == {"climber": "rule"}


async def names(db: Database) -> dict[int, str]:
    async with db.transaction() as session:
        rows = await session.execute(select(Member.id, Member.display_name))
        return {member_id: name or "" for member_id, name in rows.all()}


async def tagged(db: Database, tag: str) -> dict[str, str]:
    """Who has the tag, by member name, with its source."""
    named = await names(db)
    found = {}
    for member_id, name in named.items():
        source = (await tags_of(db, member_id)).get(tag)
        if source:
            found[name] = source
    return found


async def test_rfm_tags_follow_the_segments_after_each_nightly_recompute(db: Database):
    members = await rfm_history(db)
    await add_rule(db, "rfm", {"segment": "Loyal Customers"}, tag="loyal")
    await add_rule(db, "rfm", {"segment": "At Risk"}, tag="vip", action="remove")
    async with db.transaction() as session:  # a hand's tags are not the rule's to take
        for name in "CD":
            await tags.tag_member(session, member_id=members[name], name="vip",
                                  by=Tagger("manual"), now=local(2026, 9, 30))
        await tags.tag_member(session, member_id=members["D"], name="loyal",
                              by=Tagger("manual"), now=local(2026, 9, 30))
    nightly = find_job("rfm-recompute")
    assert nightly is not None

    first = await nightly.work(db, local(2026, 10, 1, 23), "Asia/Taipei")
    assert await tagged(db, "loyal") == {"C": "rfm", "D": "manual"}
    second = await nightly.work(db, local(2026, 11, 22, 23), "Asia/Taipei")
    again = await nightly.work(db, local(2026, 11, 22, 23), "Asia/Taipei")

    # C moved from Loyal Customers to At Risk (losing the rule's tag and the manual vip
    # the At Risk rule removes); A became Loyal; D's manual "loyal" stays.
    assert await tagged(db, "loyal") == {"A": "rfm", "D": "manual"}
    assert await tagged(db, "vip") == {"D": "manual"}
    assert (first["tags_added"], first["tags_removed"]) == (1, 0)
    assert (second["tags_added"], second["tags_removed"]) == (1, 2)
    assert (again["tags_added"], again["tags_removed"]) == (0, 0)
    assert await history_of(db, members["C"]) == [
        ("vip", "add", "manual", None),
        ("loyal", "add", "rfm", "rfm loyal"),
        ("loyal", "remove", "rfm", "rfm loyal"),
        ("vip", "remove", "rfm", "rfm vip"),
    ]


def test_the_rfm_recompute_command_keeps_segment_tags_in_step(database_url, tmp_path):
    add_store(database_url)
    visits = "C-1,Daan,2026-03-01,100\nC-1,Daan,2026-03-05,100\nC-2,Daan,2026-03-02,50\n"
    runner = CliRunner()
    assert runner.invoke(cli.app, ["import", "visits", str(history_file(tmp_path, visits))]
                         ).exit_code == 0
    db = Database(database_url)

    async def loyal_keys() -> set[str]:
        async with db.transaction() as session:
            rows = await session.execute(
                select(Member.member_key).join(MemberTag, MemberTag.member_id == Member.id)
                .join(Tag, Tag.id == MemberTag.tag_id).where(Tag.name == "loyal"))
            keys = set(rows.scalars())
        await db.dispose()
        return keys

    asyncio.run(add_rule(db, "rfm", {"segment": "Loyal Customers"}, tag="loyal"))
    result = runner.invoke(cli.app, ["rfm", "recompute", "--as-of", "2026-03-05"])
    assert result.exit_code == 0, result.output
    assert "segment tags: 1 added, 0 removed" in result.stdout
    assert asyncio.run(loyal_keys()) == {"C-1"}
