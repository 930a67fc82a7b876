"""The member card as a chat message, and the stamp progress in words."""

from cards.shortcodes import issue_card_token
from cards.urls import card_image_url, card_page_url
from loyalty.balances import CardState, card_state

from bot.types import Button, Card
from handlers.conversation import routing
from handlers.conversation.turn import Turn


def stamp_row(stamps: int, required: int) -> str:
    filled = min(stamps, required)
    return "●" * filled + "○" * (required - filled)


def progress_text(turn: Turn, state: CardState) -> str:
    if state.rewards_available:
        return turn.text(
            "chat.progress.reward_ready", count=len(state.rewards_available),
            reward=state.rewards_available[0].name,
        )
    return turn.text(
        "chat.progress", stamps=state.stamps, required=state.stamps_required,
        remaining=max(state.stamps_required - state.stamps, 0), reward=state.reward_name,
    )


def live_card_url(turn: Turn) -> str:
    # Inside LINE the card opens as a LIFF page when a LIFF app is configured.
    liff_id = turn.settings.line_liff_id if turn.event.platform == "line" else ""
    return card_page_url(turn.settings.public_base_url, turn.member.card_key, liff_id)


async def build_card(turn: Turn) -> Card:
    settings, member = turn.settings, turn.member
    issued = await issue_card_token(
        turn.session, member_id=member.id, secret_key=settings.secret_key, now=turn.now,
        ttl_seconds=settings.card_image_token_ttl_seconds,
    )
    state = await card_state(turn.session, member_id=member.id, locale=member.locale)
    return Card(
        alt_text=turn.text("chat.card.alt", stamps=state.stamps, required=state.stamps_required),
        title=turn.text("chat.card.title", name=member.display_name or turn.text("chat.friend")),
        image_url=card_image_url(settings.public_base_url, issued.token),
        progress_text=progress_text(turn, state),
        stamps=state.stamps,
        stamps_required=state.stamps_required,
        short_code=issued.short_code,
        short_code_label=turn.text("chat.card.short_code"),
        tier=state.tier,
        buttons=(
            Button(turn.text("chat.button.live_card"), url=live_card_url(turn)),
            Button(turn.text("chat.button.rewards"), payload=routing.REWARDS),
            Button(turn.text("chat.button.invite"), payload=routing.INVITE),
        ),
    )


async def current_state(turn: Turn) -> CardState:
    return await card_state(turn.session, member_id=turn.member.id, locale=turn.member.locale)
