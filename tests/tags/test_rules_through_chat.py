"""Keyword, join (referral, store link) and opt-out rules, each proved through signed
webhooks of the real platforms handled by the real conversation."""

import pytest

from bot.sender import CollectingSender
from bot.types import Profile
from cards.models import Member
from core.i18n import t
from loyalty.stores import create_store
from tests.conversation.test_conversation import member_of, say_line
from tests.events import line_event, line_postback, line_text, messenger_body, messenger_postback
from tests.harness import running_app
from tests.tags.rules import add_rule, history_of, tags_of


@pytest.fixture
def senders():
    line = CollectingSender("line", profiles={"U-amy": Profile("Amy", "zh-TW"),
                                              "U-bob": Profile("Bob", "en")})
    return {"line": line, "messenger": CollectingSender("messenger")}


async def say_messenger(harness, *messaging):
    assert (await harness.post_messenger(messenger_body(*messaging))).status_code == 200
    await harness.drain()


async def test_a_keyword_in_a_line_message_tags_the_member_as_the_rule(db, settings, senders):
    await add_rule(db, "keyword", {"pattern": "拿鐵"}, tag="latte lover")
    await add_rule(db, "keyword", {"pattern": "oat milk"}, tag="oat")
    await add_rule(db, "keyword", {"pattern": r"^no (dairy|milk)\b", "match": "regex"},
                   tag="oat", action="remove")
    async with running_app(settings, senders=senders) as harness:
        await say_line(harness, line_event("follow", "U-amy"))
        amy = await member_of(harness, "line", "U-amy")
        await say_line(harness, line_text("U-amy", "今天想喝一杯拿鐵"))
        await say_line(harness, line_text("U-amy", "OAT  Milk please"))
        await say_line(harness, line_text("U-amy", "oat milky way"))  # no whole phrase
        assert await tags_of(db, amy.id) == {"latte lover": "rule", "oat": "rule"}
        await say_line(harness, line_text("U-amy", "No milk for me"))
        # The conversation still answers as before: a keyword is no intent.
        assert senders["line"].sent[-1].messages[0].text == t("chat.help", "zh-TW")
    assert await tags_of(db, amy.id) == {"latte lover": "rule"}
    assert await history_of(db, amy.id) == [
        ("latte lover", "add", "rule", "keyword latte lover"),
        ("oat", "add", "rule", "keyword oat"),
        ("oat", "remove", "rule", "keyword oat")]


async def test_a_catastrophic_pattern_times_out_as_no_match_and_the_chat_goes_on(
        db, settings, senders):
    await add_rule(db, "keyword", {"pattern": "(a|aa)+$", "match": "regex"}, tag="slow")
    async with running_app(settings, senders=senders) as harness:
        await say_line(harness, line_event("follow", "U-amy"))
        amy = await member_of(harness, "line", "U-amy")
        await say_line(harness, line_text("U-amy", "a" * 1500 + "!"))
        assert senders["line"].sent[-1].messages[0].text == t("chat.help", "zh-TW")
    assert await tags_of(db, amy.id) == {}


async def test_joining_through_a_referral_tags_by_the_referrers_code(db, settings, senders):
    async with running_app(settings, senders=senders) as harness:
        await say_line(harness, line_event("follow", "U-amy"))
        amy = await member_of(harness, "line", "U-amy")
        await add_rule(db, "event", {"event": "joined_via_referral",
                                     "referral_code": amy.referral_code.lower()}, tag="amy's")
        await add_rule(db, "event", {"event": "joined_via_referral"}, tag="referred")
        await add_rule(db, "event", {"event": "joined_via_referral",
                                     "referral_code": "OTHER123"}, tag="other's")
        # Messenger: the m.me ref arrives with Get Started.
        await say_messenger(harness, messenger_postback("P-new", "GET_STARTED",
                                                        ref=amy.referral_code))
        # LINE: the follow, then the prefilled invite text.
        await say_line(harness, line_event("follow", "U-bob"))
        await say_line(harness, line_text("U-bob", f"invite code {amy.referral_code}"))
        friend = await member_of(harness, "messenger", "P-new")
        bob = await member_of(harness, "line", "U-bob")
    for member in (friend, bob):
        assert member.join_source == "referral"
        assert await tags_of(db, member.id) == {"amy's": "rule", "referred": "rule"}


async def test_joining_through_a_store_link_tags_and_keeps_the_store(db, settings, senders):
    async with db.transaction() as session:
        daan = await create_store(session, name="Daan")
        xinyi = await create_store(session, name="Xinyi")
        closed = await create_store(session, name="Closed")
        closed.active = False
    await add_rule(db, "event", {"event": "joined_via_store_link", "store_id": daan.id},
                   tag="daan")
    await add_rule(db, "event", {"event": "joined_via_store_link"}, tag="store link")
    async with running_app(settings, senders=senders) as harness:
        landing = await harness.client.get(f"/j/{daan.id}")
        for url in (f"/j/{closed.id}", "/j/999999", "/j/99999999999999999999", "/j/x"):
            assert (await harness.client.get(url)).status_code in (404, 422), url
        await say_messenger(harness, messenger_postback("P-new", "GET_STARTED",
                                                        ref=f"store-{daan.id}"))
        await say_line(harness, line_event("follow", "U-bob"))
        await say_line(harness, line_text("U-bob", f"store {xinyi.id}"))
        bob_reply = senders["line"].sent[-1].messages[0].text
        await say_messenger(harness, messenger_postback("P-bad", "GET_STARTED",
                                                        ref=f"store-{closed.id}"))
        await say_messenger(harness, messenger_postback("P-odd", "GET_STARTED",
                                                        ref="store-99999999999999"))
        at_daan = await member_of(harness, "messenger", "P-new")
        bob = await member_of(harness, "line", "U-bob")
        bad = await member_of(harness, "messenger", "P-bad")
        odd = await member_of(harness, "messenger", "P-odd")
    assert landing.status_code == 200 and "Daan" in landing.text
    assert "/simulator/?platform=messenger&amp;ref=store-" in landing.text
    assert (at_daan.join_source, at_daan.join_store_id) == ("store_link", daan.id)
    assert await tags_of(db, at_daan.id) == {"daan": "rule", "store link": "rule"}
    assert (bob.join_source, bob.join_store_id) == ("store_link", xinyi.id)
    assert bob_reply == t("chat.store_link.welcome", "en", store="Xinyi")
    assert await tags_of(db, bob.id) == {"store link": "rule"}
    for joined_normally in (bad, odd):
        assert (joined_normally.join_source, joined_normally.join_store_id) == ("messenger", None)
        assert await tags_of(db, joined_normally.id) == {}


async def test_a_store_link_text_from_an_old_member_changes_nothing(db, settings, senders):
    async with db.transaction() as session:
        daan = await create_store(session, name="Daan")
    await add_rule(db, "event", {"event": "joined_via_store_link"}, tag="store link")
    async with running_app(settings, senders=senders) as harness:
        await say_line(harness, line_event("follow", "U-amy"))
        amy = await member_of(harness, "line", "U-amy")
        async with db.transaction() as session:
            old = await session.get(Member, amy.id)
            old.joined_at = old.joined_at.replace(year=old.joined_at.year - 1)
        await say_line(harness, line_text("U-amy", f"門市 {daan.id}"))
        amy = await member_of(harness, "line", "U-amy")
    assert (amy.join_source, amy.join_store_id) == ("line", None)
    assert await tags_of(db, amy.id) == {}


async def test_stopping_marketing_in_the_chat_tags_the_member_and_not_now_does_not(
        db, settings, senders):
    await add_rule(db, "event", {"event": "opted_out"}, tag="opted out")
    await add_rule(db, "event", {"event": "opted_out"}, tag="offers", action="remove")
    await add_rule(db, "keyword", {"pattern": "offers"}, tag="offers")
    async with running_app(settings, senders=senders) as harness:
        await say_line(harness, line_event("follow", "U-amy"))
        amy = await member_of(harness, "line", "U-amy")
        await say_line(harness, line_postback("U-amy", "consent:no"))
        assert await tags_of(db, amy.id) == {}
        await say_line(harness, line_text("U-amy", "any offers?"))
        assert await tags_of(db, amy.id) == {"offers": "rule"}
        await say_line(harness, line_text("U-amy", "停止"))
        assert (await member_of(harness, "line", "U-amy")).marketing_opt_in is False
    assert await tags_of(db, amy.id) == {"opted out": "rule"}
