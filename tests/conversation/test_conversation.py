"""The customer's conversation, intent by intent, through the real webhook receivers."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.sender import CollectingSender
from bot.types import Card, Choice, Profile, Text
from cards.models import Member, MemberIdentity
from core.clock import utcnow
from core.i18n import t
from loyalty.programs import set_program
from tests.events import (
    line_body,
    line_event,
    line_postback,
    line_text,
    messenger_body,
    messenger_postback,
    messenger_text,
)
from tests.harness import running_app


@pytest.fixture
def senders():
    line = CollectingSender("line", profiles={"U-amy": Profile("Amy", "zh-TW"),
                                              "U-bob": Profile("Bob", "en")})
    messenger = CollectingSender("messenger", profiles={"P-amy": Profile("Amy Chen", "zh_TW")})
    return {"line": line, "messenger": messenger}


async def say_line(harness, *events):
    assert (await harness.post_line(line_body(*events))).status_code == 200
    await harness.drain()


def last_reply(sender: CollectingSender):
    return sender.sent[-1].messages


async def find_member(harness, platform: str, user_id: str) -> Member | None:
    async with harness.app.state.db.transaction() as session:
        identity = await session.scalar(select(MemberIdentity).where(
            MemberIdentity.platform == platform, MemberIdentity.platform_user_id == user_id))
        return None if identity is None else await session.get(Member, identity.member_id)


async def member_of(harness, platform: str, user_id: str) -> Member:
    member = await find_member(harness, platform, user_id)
    assert member is not None, f"{platform} {user_id} is no member"
    return member


async def test_follow_joins_and_answers_with_greeting_card_and_consent_question(settings, senders):
    async with running_app(settings, senders=senders) as harness:
        await say_line(harness, line_event("follow", "U-amy"))
        member = await member_of(harness, "line", "U-amy")
    greeting, card, consent = last_reply(senders["line"])
    assert greeting.text == t("chat.welcome", "zh-TW", brand=settings.brand_name, name="Amy")
    assert isinstance(card, Card)
    assert (card.stamps, card.stamps_required) == (0, 3)
    assert card.image_url.startswith("http://testserver/c/") and card.image_url.endswith(".png")
    assert card.short_code is not None
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}", card.short_code)
    assert card.buttons[0].url == f"http://testserver/card/{member.card_key}"
    assert [b.payload for b in consent.quick_replies] == ["consent:yes", "consent:no"]
    assert member.display_name == "Amy" and member.marketing_opt_in is False


async def test_card_keyword_in_either_language_and_the_menu_button_send_the_card(settings, senders):
    async with running_app(settings, senders=senders) as harness:
        await say_line(harness, line_event("follow", "U-bob"))
        for words in ("card", "會員卡", " Card "):
            await say_line(harness, line_text("U-bob", words))
            assert isinstance(last_reply(senders["line"])[0], Card)
        await say_line(harness, line_postback("U-bob", "card"))
        [card] = last_reply(senders["line"])
    assert card.progress_text == t("chat.progress", "en", stamps=0, required=3, remaining=3,
                                   reward=t("loyalty.reward.default", "en"))


async def test_consent_buttons_and_stop_start_words_switch_marketing(settings, senders):
    async with running_app(settings, senders=senders) as harness:
        await say_line(harness, line_event("follow", "U-amy"))
        await say_line(harness, line_postback("U-amy", "consent:yes"))
        assert (await member_of(harness, "line", "U-amy")).marketing_opt_in is True
        await say_line(harness, line_text("U-amy", "停止"))
        assert (await member_of(harness, "line", "U-amy")).marketing_opt_in is False
        assert last_reply(senders["line"])[0].text == t("chat.consent.off", "zh-TW")
        await say_line(harness, line_text("U-amy", "start"))
        assert (await member_of(harness, "line", "U-amy")).marketing_opt_in is True


async def test_delete_asks_once_then_erases_personal_data(settings, senders):
    async with running_app(settings, senders=senders) as harness:
        await say_line(harness, line_event("follow", "U-amy"))
        member_id = (await member_of(harness, "line", "U-amy")).id
        await say_line(harness, line_text("U-amy", "刪除資料"))
        [question] = last_reply(senders["line"])
        assert isinstance(question, Choice)
        assert [b.payload for b in question.buttons] == ["delete:yes", "delete:no"]
        await say_line(harness, line_postback("U-amy", "delete:no"))
        assert await find_member(harness, "line", "U-amy") is not None
        await say_line(harness, line_postback("U-amy", "delete:yes"))
        assert await find_member(harness, "line", "U-amy") is None
        async with harness.app.state.db.transaction() as session:
            erased = await session.get(Member, member_id)
    assert erased is not None and erased.display_name is None and erased.deleted_at is not None
    assert last_reply(senders["line"])[0].text == t("chat.delete.done", "zh-TW",
                                                    brand=settings.brand_name)


async def test_language_choice_switches_every_later_text(settings, senders):
    async with running_app(settings, senders=senders) as harness:
        await say_line(harness, line_event("follow", "U-amy"))
        await say_line(harness, line_text("U-amy", "語言"))
        assert isinstance(last_reply(senders["line"])[0], Choice)
        await say_line(harness, line_postback("U-amy", "lang:en"))
        assert last_reply(senders["line"])[0].text == t("chat.language.done", "en")
        await say_line(harness, line_text("U-amy", "stamps"))
        assert "of 3 stamps" in last_reply(senders["line"])[0].text


async def test_anything_else_gets_short_help_with_the_menu(settings, senders):
    async with running_app(settings, senders=senders) as harness:
        await say_line(harness, line_event("follow", "U-bob"))
        await say_line(harness, line_text("U-bob", "what's the weather?"))
    [help_text] = last_reply(senders["line"])
    assert help_text.text == t("chat.help", "en")
    assert {b.payload for b in help_text.quick_replies} >= {"card", "stamps", "invite"}


async def test_invite_gives_a_link_with_the_members_referral_code(settings, senders):
    async with running_app(settings, senders=senders) as harness:
        await say_line(harness, line_event("follow", "U-amy"))
        await say_line(harness, line_text("U-amy", "邀請"))
        member = await member_of(harness, "line", "U-amy")
        [invite] = last_reply(senders["line"])
        assert f"http://testserver/r/{member.referral_code}" in invite.text
        landing = await harness.client.get(f"/r/{member.referral_code}")
        unknown = await harness.client.get("/r/NOPE1234")
    assert landing.status_code == 200 and member.referral_code in landing.text
    assert unknown.status_code == 404


async def test_messenger_get_started_with_a_referral_joins_as_the_referred_friend(
    settings, senders
):
    async with running_app(settings, senders=senders) as harness:
        await say_line(harness, line_event("follow", "U-amy"))
        referrer = await member_of(harness, "line", "U-amy")
        get_started = messenger_postback("P-new", "GET_STARTED", ref=referrer.referral_code)
        body = messenger_body(get_started)
        assert (await harness.post_messenger(body)).status_code == 200
        await harness.drain()
        friend = await member_of(harness, "messenger", "P-new")
    assert friend.referred_by_member_id == referrer.id
    greeting, card, _consent = last_reply(senders["messenger"])
    assert isinstance(greeting, Text) and isinstance(card, Card)


async def test_link_code_joins_a_line_and_a_messenger_identity_into_one_member(settings, senders):
    async with running_app(settings, senders=senders) as harness:
        await say_line(harness, line_event("follow", "U-amy"))
        await say_line(harness, line_text("U-amy", "連結"))
        shown = re.search(r"\d{6}", last_reply(senders["line"])[0].text)
        assert shown is not None
        code = shown.group(0)
        await harness.post_messenger(messenger_body(messenger_postback("P-amy", "GET_STARTED")))
        await harness.post_messenger(messenger_body(messenger_text("P-amy", f"link {code}")))
        await harness.drain()
        on_line = await member_of(harness, "line", "U-amy")
        on_messenger = await member_of(harness, "messenger", "P-amy")
        await harness.post_messenger(messenger_body(messenger_text("P-amy", f"link {code}")))
        await harness.drain()
    assert on_line.id == on_messenger.id
    reused = last_reply(senders["messenger"])[0].text
    assert reused in (t("chat.link.error.link_code_used", "zh-TW"),
                      t("chat.link.error.link_same_platform", "zh-TW"))


async def test_unfollow_stops_sending_and_refollow_welcomes_back(settings, senders):
    async with running_app(settings, senders=senders) as harness:
        await say_line(harness, line_event("follow", "U-amy"))
        await say_line(harness, line_event("unfollow", "U-amy"))
        async with harness.app.state.db.transaction() as session:
            identity = await session.scalar(select(MemberIdentity))
            assert identity.following is False
        sent_before = len(senders["line"].sent)
        await say_line(harness, line_event("follow", "U-amy"))
    assert len(senders["line"].sent) == sent_before + 1
    assert last_reply(senders["line"])[0].text == t(
        "chat.welcome_back", "zh-TW", brand=settings.brand_name, name="Amy")


async def test_a_program_with_welcome_stamps_starts_the_new_card_with_them(settings, senders):
    async with running_app(settings, senders=senders) as harness:
        async with harness.app.state.db.transaction() as session:
            await set_program(session, starts_at=utcnow() - timedelta(minutes=1), welcome_stamps=1)
        await say_line(harness, line_event("follow", "U-amy"))
    _greeting, card, _consent = last_reply(senders["line"])
    assert (card.stamps, card.stamps_required) == (1, 3)


async def test_a_member_can_give_a_birthday_for_the_birthday_reward(settings, senders):
    async with running_app(settings, senders=senders) as harness:
        await say_line(harness, line_event("follow", "U-amy"))
        await say_line(harness, line_text("U-amy", "生日"))
        assert last_reply(senders["line"])[0].text == t("chat.birthday.ask", "zh-TW",
                                                        brand=settings.brand_name)
        await say_line(harness, line_text("U-amy", "生日 02-30"))
        assert (await member_of(harness, "line", "U-amy")).birthday is None
        await say_line(harness, line_text("U-amy", "生日 1990/5/12"))
        birthday = (await member_of(harness, "line", "U-amy")).birthday
    assert birthday is not None
    assert (birthday.year, birthday.month, birthday.day) == (1990, 5, 12)
    assert last_reply(senders["line"])[0].text == t("chat.birthday.saved", "zh-TW",
                                                    brand=settings.brand_name, month=5, day=12)
