"""One function per intent. Each reads the turn and adds the replies."""

from collections.abc import Awaitable, Callable
from datetime import date

from bot import postbacks
from bot.types import Button, Card, Choice, Text
from broadcast import card_message
from broadcast.card_message import stamp_row
from cards import service as members
from core.errors import AppError
from handlers.conversation.turn import Turn
from loyalty.join_links import joined_at_store, joined_by_referral
from loyalty.member_card import MemberCard, member_card
from loyalty.tag_rules import MemberEvent, member_event

IntentHandler = Callable[[Turn, str | None], Awaitable[None]]


async def build_card(turn: Turn) -> Card:
    return await card_message.build_card(turn.session, settings=turn.settings, member=turn.member,
                                         platform=turn.event.platform, now=turn.now)


async def current_state(turn: Turn) -> MemberCard:
    return await member_card(turn.session, member_id=turn.member.id, locale=turn.member.locale,
                             now=turn.now)


def consent_question(turn: Turn, text_key: str) -> Text:
    return Text(
        turn.text(text_key),
        quick_replies=(
            Button(turn.text("chat.consent.yes"), payload=postbacks.CONSENT_YES),
            Button(turn.text("chat.consent.no"), payload=postbacks.CONSENT_NO),
        ),
    )


def menu_replies(turn: Turn) -> tuple[Button, ...]:
    return (
        Button(turn.text("chat.button.card"), payload=postbacks.CARD),
        Button(turn.text("chat.button.stamps"), payload=postbacks.STAMPS),
        Button(turn.text("chat.button.invite"), payload=postbacks.INVITE),
        Button(turn.text("chat.button.language"), payload=postbacks.LANGUAGE),
        Button(turn.text("chat.button.help"), payload=postbacks.HELP),
    )


async def welcome(turn: Turn, _argument: str | None) -> None:
    """A new member: greeting, the card, and the marketing question (default off)."""
    name = turn.member.display_name or turn.text("chat.friend")
    turn.say(Text(turn.text("chat.welcome", name=name)), await build_card(turn),
             consent_question(turn, "chat.consent.ask"))


async def welcome_back(turn: Turn, _argument: str | None) -> None:
    name = turn.member.display_name or turn.text("chat.friend")
    turn.say(Text(turn.text("chat.welcome_back", name=name)), await build_card(turn))


async def show_card(turn: Turn, _argument: str | None) -> None:
    turn.say(await build_card(turn))


async def show_stamps(turn: Turn, _argument: str | None) -> None:
    state = await current_state(turn)
    lines = [
        turn.text("chat.stamps", row=stamp_row(state.stamps, state.stamps_required),
                  stamps=state.stamps, required=state.stamps_required,
                  remaining=state.stamps_remaining,
                  reward=state.reward_name),
    ]
    if state.tier:
        lines.append(turn.text("chat.tier", tier=state.tier))
    turn.say(Text("\n".join(lines), quick_replies=menu_replies(turn)))


async def show_rewards(turn: Turn, _argument: str | None) -> None:
    state = await current_state(turn)
    if not state.rewards_available:
        turn.say(Text(turn.text("chat.rewards.none", remaining=state.stamps_remaining,
                                reward=state.reward_name),
                      quick_replies=menu_replies(turn)))
        return
    names = "\n".join(f"🎁 {reward.name}" for reward in state.rewards_available)
    turn.say(Text(turn.text("chat.rewards.list", rewards=names)), await build_card(turn))


async def invite(turn: Turn, _argument: str | None) -> None:
    base = turn.settings.public_base_url.rstrip("/")
    link = f"{base}/r/{turn.member.referral_code}"
    turn.say(Text(turn.text("chat.invite", link=link, code=turn.member.referral_code)))


async def consent(turn: Turn, opted_in: bool) -> None:
    await members.set_marketing_consent(turn.session, member=turn.member, opted_in=opted_in,
                                        now=turn.now)
    key = "chat.consent.on" if opted_in else "chat.consent.off"
    turn.say(Text(turn.text(key), quick_replies=menu_replies(turn)))


async def opt_in(turn: Turn, _argument: str | None) -> None:
    await consent(turn, True)


async def opt_out(turn: Turn, _argument: str | None) -> None:
    await consent(turn, False)


async def stop(turn: Turn, _argument: str | None) -> None:
    """"Stop" (a word, the button, Messenger's own opt-out): the member opts out of
    marketing, which the event rules hear of. "Not now" to the first question is no
    opt-out, only no opt-in yet."""
    await consent(turn, False)
    await member_event(turn.session, member_id=turn.member.id, now=turn.now,
                       event=MemberEvent("opted_out"))


async def ask_delete(turn: Turn, _argument: str | None) -> None:
    turn.say(Choice(turn.text("chat.delete.ask"), buttons=(
        Button(turn.text("chat.delete.yes"), payload=postbacks.DELETE_YES),
        Button(turn.text("chat.delete.no"), payload=postbacks.DELETE_NO),
    )))


async def delete(turn: Turn, _argument: str | None) -> None:
    locale = turn.locale
    await members.erase_member(turn.session, member=turn.member,
                               secret_key=turn.settings.secret_key, now=turn.now)
    turn.member.locale = locale  # the goodbye is still in the language they used
    turn.say(Text(turn.text("chat.delete.done")))


async def keep(turn: Turn, _argument: str | None) -> None:
    turn.say(Text(turn.text("chat.delete.kept"), quick_replies=menu_replies(turn)))


async def choose_language(turn: Turn, _argument: str | None) -> None:
    turn.say(Choice(turn.text("chat.language.ask"), buttons=(
        Button("中文", payload=postbacks.SET_LOCALE_PREFIX + "zh-TW"),
        Button("English", payload=postbacks.SET_LOCALE_PREFIX + "en"),
    )))


async def set_locale(turn: Turn, locale: str | None) -> None:
    if locale not in ("zh-TW", "en"):
        await choose_language(turn, None)
        return
    await members.set_locale(turn.session, member=turn.member, locale=locale)
    turn.say(Text(turn.text("chat.language.done"), quick_replies=menu_replies(turn)))


async def link_start(turn: Turn, _argument: str | None) -> None:
    code = await members.create_link_code(turn.session, member=turn.member, now=turn.now,
                                          ttl_seconds=turn.settings.link_code_ttl_seconds)
    other = "Messenger" if turn.event.platform == "line" else "LINE"
    minutes = turn.settings.link_code_ttl_seconds // 60
    turn.say(Text(turn.text("chat.link.code", code=code, other=other, minutes=minutes)))


async def link_redeem(turn: Turn, code: str | None) -> None:
    try:
        turn.member = await members.redeem_link_code(turn.session, code=code or "",
                                                     identity=turn.identity, now=turn.now)
    except AppError as refusal:
        turn.say(Text(turn.text(f"chat.link.error.{refusal.code}")))
        return
    turn.say(Text(turn.text("chat.link.done")), await build_card(turn))


async def referral(turn: Turn, code: str | None) -> None:
    applied = await members.apply_referral(turn.session, member=turn.member, code=code or "",
                                           secret_key=turn.settings.secret_key)
    if applied:
        await joined_by_referral(turn.session, member=turn.member, now=turn.now)
    key = "chat.referral.applied" if applied else "chat.referral.refused"
    turn.say(Text(turn.text(key)), await build_card(turn))


async def store_join(turn: Turn, store_id: str | None) -> None:
    """The message a store's join link prefills on LINE, just after the follow: the
    member joined at that store. Otherwise (an old member, a bad id) just the card."""
    store = await joined_at_store(turn.session, member=turn.member,
                                  store_id=int(store_id or 0), now=turn.now)
    if store is not None:
        turn.say(Text(turn.text("chat.store_link.welcome", store=store.name)))
    turn.say(await build_card(turn))


async def remember_optin(turn: Turn, token: str | None) -> None:
    """Messenger Marketing Messages opt-in: keep the token, confirm briefly."""
    turn.identity.notification_messages_token = token
    await consent(turn, True)


async def forget_optin(turn: Turn, _argument: str | None) -> None:
    """Messenger Marketing Messages stopped from Messenger's own UI."""
    turn.identity.notification_messages_token = None
    await stop(turn, None)


# A leap year, so that 02-29 is a date whatever year (if any) the member gave.
_YEAR_FOR_UNKNOWN = 2000


def parse_birthday(argument: str | None) -> date | None:
    """`"1990-5-12"` or `"-5-12"` (no year) as a date, or None when it is no date."""
    year, _, rest = (argument or "").partition("-")
    month, _, day = rest.partition("-")
    try:
        return date(int(year) if year else _YEAR_FOR_UNKNOWN, int(month), int(day))
    except ValueError:
        return None


async def remember_birthday(turn: Turn, argument: str | None) -> None:
    """Birthday and phone are kept only if the member gives them (docs/architecture.md)."""
    birthday = parse_birthday(argument)
    if birthday is None:
        turn.say(Text(turn.text("chat.birthday.ask")))
        return
    await members.set_birthday(turn.session, member=turn.member, birthday=birthday)
    turn.say(Text(turn.text("chat.birthday.saved", month=birthday.month, day=birthday.day),
                  quick_replies=menu_replies(turn)))


async def help_menu(turn: Turn, _argument: str | None) -> None:
    turn.say(Text(turn.text("chat.help"), quick_replies=menu_replies(turn)))


INTENTS: dict[str, IntentHandler] = {
    postbacks.CARD: show_card,
    postbacks.STAMPS: show_stamps,
    postbacks.REWARDS: show_rewards,
    postbacks.INVITE: invite,
    postbacks.CONSENT_YES: opt_in,
    postbacks.CONSENT_NO: opt_out,
    postbacks.START: opt_in,
    postbacks.STOP: stop,
    postbacks.DELETE_ASK: ask_delete,
    postbacks.DELETE_YES: delete,
    postbacks.DELETE_NO: keep,
    postbacks.LANGUAGE: choose_language,
    "set_locale": set_locale,
    postbacks.LINK: link_start,
    "link_redeem": link_redeem,
    "referral": referral,
    "store_join": store_join,
    "optin": remember_optin,
    "optin_stop": forget_optin,
    postbacks.BIRTHDAY: remember_birthday,
    postbacks.HELP: help_menu,
}
