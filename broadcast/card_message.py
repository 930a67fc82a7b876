"""The member card as a chat message, and the stamp progress in words. Used by the
conversation and by the counter's notifications (a fresh card after an expired QR)."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot import postbacks
from bot.types import Button, Card
from cards.models import Member
from cards.shortcodes import issue_card_token
from cards.urls import card_image_url, card_page_url
from core.i18n import t
from core.settings import Settings
from loyalty.member_card import MemberCard, member_card


def stamp_row(stamps: int, required: int) -> str:
    filled = min(stamps, required)
    return "●" * filled + "○" * (required - filled)


def progress_text(state: MemberCard, locale: str) -> str:
    if state.rewards_available:
        return t("chat.progress.reward_ready", locale, count=len(state.rewards_available),
                 reward=state.rewards_available[0].name)
    return t("chat.progress", locale, stamps=state.stamps, required=state.stamps_required,
             remaining=state.stamps_remaining, reward=state.reward_name)


def live_card_url(settings: Settings, member: Member, platform: str) -> str:
    # Inside LINE the card opens as a LIFF page when a LIFF app is configured.
    liff_id = settings.line_liff_id if platform == "line" else ""
    return card_page_url(settings.public_base_url, member.card_key, liff_id)


async def build_card(session: AsyncSession, *, settings: Settings, member: Member,
                     platform: str, now: datetime) -> Card:
    """A card message with a freshly issued QR token and short code."""
    issued = await issue_card_token(
        session, member_id=member.id, secret_key=settings.secret_key, now=now,
        ttl_seconds=settings.card_image_token_ttl_seconds,
    )
    state = await member_card(session, member_id=member.id, locale=member.locale, now=now)
    locale, brand = member.locale, settings.brand_name
    name = member.display_name or t("chat.friend", locale)
    return Card(
        alt_text=t("chat.card.alt", locale, brand=brand, stamps=state.stamps,
                   required=state.stamps_required),
        title=t("chat.card.title", locale, brand=brand, name=name),
        image_url=card_image_url(settings.public_base_url, issued.token),
        progress_text=progress_text(state, locale),
        stamps=state.stamps,
        stamps_required=state.stamps_required,
        short_code=issued.short_code,
        short_code_label=t("chat.card.short_code", locale),
        tier=state.tier,
        buttons=(
            Button(t("chat.button.live_card", locale), url=live_card_url(settings, member,
                                                                         platform)),
            Button(t("chat.button.rewards", locale), payload=postbacks.REWARDS),
            Button(t("chat.button.invite", locale), payload=postbacks.INVITE),
        ),
    )
