"""loyalty.tags: names, sources, idempotency, history kept after removal and deletion,
counts; on both databases."""

import pytest
from sqlalchemy import func, select

from cards.models import Member
from core.db import Database
from loyalty import tags
from loyalty.errors import NotFound
from loyalty.models import MemberTag, MemberTagChange, Tag
from loyalty.pos_keys import issue_pos_key
from loyalty.tags import InvalidTagName, Tagger, TagNameTaken
from tests.loyalty.factories import T0, add_member, open_shop


async def history_of(db: Database, member_id: int) -> list[tuple[str, str, str]]:
    async with db.transaction() as session:
        changes = await tags.member_tag_history(session, member_id=member_id)
    return [(change.name, change.action, change.source) for change in reversed(changes)]


@pytest.mark.parametrize("name", ["", "   ", "a" * 65, "two\nlines", "tab\there", "nul\x00",
                                  "bell\x07", "line\u2028sep", "para\u2029sep", "c1\x85c1",
                                  "\ud800"])
async def test_hostile_tag_names_are_refused_with_their_own_code(db: Database, name: str):
    shop = await open_shop(db)
    async with db.transaction() as session:
        with pytest.raises(InvalidTagName) as refused:
            await tags.tag_member(session, member_id=shop.member_id, name=name,
                                  by=Tagger.staff(shop.staff_id), now=T0)
        assert refused.value.status_code == 422 and refused.value.code == "invalid_tag_name"
        assert await session.scalar(select(func.count()).select_from(Tag)) == 0


async def test_names_are_trimmed_and_sixty_four_characters_of_chinese_fit(db: Database):
    shop = await open_shop(db)
    async with db.transaction() as session:
        assert tags.clean_tag_name("  燕麥奶  ") == "燕麥奶"
        await tags.tag_member(session, member_id=shop.member_id, name="拿" * 64,
                              by=Tagger.staff(shop.staff_id), now=T0)
        [tag] = await tags.member_tags(session, member_id=shop.member_id)
    assert tag.name == "拿" * 64


async def test_tagging_twice_is_one_tag_and_one_history_row(db: Database):
    shop = await open_shop(db)
    async with db.transaction() as session:
        first = await tags.tag_member(session, member_id=shop.member_id, name="oat milk",
                                      by=Tagger.staff(shop.staff_id), now=T0)
        again = await tags.tag_member(session, member_id=shop.member_id, name=" oat milk ",
                                      by=Tagger.staff(shop.manager_id), now=T0)
        rows = await session.scalar(select(func.count()).select_from(MemberTag))
        [tag] = await tags.member_tags(session, member_id=shop.member_id)
    assert (first, again, rows) == (True, False, 1)
    assert await history_of(db, shop.member_id) == [("oat milk", "add", "manual")]
    assert tag.staff_name is not None and tag.source == "manual"  # the first tagger's


async def test_each_tag_keeps_who_set_it_staff_or_pos_key(db: Database):
    shop = await open_shop(db)
    async with db.transaction() as session:
        key, _ = await issue_pos_key(session, store_id=shop.store_id)
        await tags.tag_member(session, member_id=shop.member_id, name="vip",
                              by=Tagger.staff(shop.staff_id), now=T0)
        await tags.tag_member(session, member_id=shop.member_id, name="pos",
                              by=Tagger.pos_key(key.id), now=T0)
        pos, vip = await tags.member_tags(session, member_id=shop.member_id)
    assert (vip.name, vip.source, vip.pos_key_prefix) == ("vip", "manual", None)
    assert vip.staff_name and vip.staff_name.startswith("staff-")
    assert (pos.name, pos.pos_key_prefix, pos.staff_name) == ("pos", key.prefix, None)


async def test_removing_a_tag_keeps_its_history(db: Database):
    shop = await open_shop(db)
    async with db.transaction() as session:
        await tags.tag_member(session, member_id=shop.member_id, name="vip",
                              by=Tagger.staff(shop.staff_id), now=T0)
        removed = await tags.untag_member(session, member_id=shop.member_id, name="vip",
                                          by=Tagger.staff(shop.manager_id), now=T0)
        again = await tags.untag_member(session, member_id=shop.member_id, name="vip",
                                        by=Tagger.staff(shop.manager_id), now=T0)
        assert await tags.member_tags(session, member_id=shop.member_id) == []
    assert (removed, again) == (True, False)
    assert await history_of(db, shop.member_id) == [("vip", "add", "manual"),
                                                    ("vip", "remove", "manual")]


async def test_unknown_members_and_tags_are_not_found_and_change_nothing(db: Database):
    shop = await open_shop(db)
    async with db.transaction() as session:
        with pytest.raises(NotFound):
            await tags.tag_member(session, member_id=shop.member_id + 99, name="vip",
                                  by=Tagger.staff(shop.staff_id), now=T0)
        with pytest.raises(NotFound):
            await tags.untag_member(session, member_id=shop.member_id, name="never made",
                                    by=Tagger.staff(shop.staff_id), now=T0)
        assert await session.scalar(select(func.count()).select_from(MemberTagChange)) == 0


async def test_deleting_a_tag_untags_everyone_set_based_and_keeps_the_history(db: Database):
    shop = await open_shop(db)
    async with db.transaction() as session:
        others = [(await add_member(session, name=f"M{i}")).id for i in range(3)]
        tag = await tags.create_tag(session, name="summer")
        for member_id in [shop.member_id, *others]:
            await tags.tag_member(session, member_id=member_id, name="summer",
                                  by=Tagger.staff(shop.staff_id), now=T0)
        removed = await tags.delete_tag(session, tag_id=tag.id,
                                        by=Tagger.staff(shop.manager_id), now=T0)
        assert await tags.tags_with_counts(session) == []
        with pytest.raises(NotFound):
            await tags.rename_tag(session, tag_id=tag.id, name="autumn")
    assert removed == 4
    assert await history_of(db, others[0]) == [("summer", "add", "manual"),
                                               ("summer", "remove", "manual")]
    async with db.transaction() as session:  # the name comes back as the same tag
        again = await tags.create_tag(session, name="summer")
    assert again.id == tag.id


async def test_create_rename_and_counts(db: Database):
    shop = await open_shop(db)
    async with db.transaction() as session:
        vip = await tags.create_tag(session, name="vip", description="big spenders")
        await tags.create_tag(session, name="new")
        with pytest.raises(TagNameTaken):
            await tags.create_tag(session, name=" vip")
        with pytest.raises(TagNameTaken):
            await tags.rename_tag(session, tag_id=vip.id, name="new")
        await tags.rename_tag(session, tag_id=vip.id, name="VIP", description="top")
        await tags.tag_member(session, member_id=shop.member_id, name="VIP",
                              by=Tagger.staff(shop.staff_id), now=T0)
        counts = await tags.tags_with_counts(session)
    assert [(c.name, c.description, c.members) for c in counts] == [
        ("VIP", "top", 1), ("new", None, 0)]


async def test_tagging_many_members_at_once_writes_one_change_each(db: Database):
    shop = await open_shop(db)
    async with db.transaction() as session:
        ids = [shop.member_id, *[(await add_member(session, name=f"M{i}")).id
                                 for i in range(4)]]
        tag = await tags.create_tag(session, name="bulk")
        chosen = select(Member.id).where(Member.id.in_(ids[:3]))
        first = await tags.add_tags(session, tag_id=tag.id, members=chosen,
                                    by=Tagger("import"), now=T0)
        second = await tags.add_tags(session, tag_id=tag.id,
                                     members=select(Member.id).where(Member.id.in_(ids)),
                                     by=Tagger("import"), now=T0)
        changes = await session.scalar(select(func.count()).select_from(MemberTagChange))
    assert (first, second, changes) == (3, 2, 5)
