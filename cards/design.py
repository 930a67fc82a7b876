"""What a member card shows, with every label already in the member's language."""

import unicodedata
from dataclasses import dataclass

from PIL import ImageColor

from core.i18n import t

DEFAULT_BRAND_RGB = (15, 118, 110)
INK_RGB = (17, 24, 39)
WHITE_RGB = (255, 255, 255)

Rgb = tuple[int, int, int]
# Control characters, line and paragraph separators (and lone surrogates) end a line or
# stop the text layout (raqm), so a drawn line holds none of them.
_LINE_BREAKING = frozenset({"Cc", "Zl", "Zp", "Cs"})
# Far more than fits on a card: the rest would be cut by the ellipsis anyway.
MAX_DRAWN_CHARACTERS = 200


@dataclass(frozen=True, slots=True)
class CardDesign:
    brand_name: str
    brand_color: str  # "#RRGGBB"
    member_name: str
    tier: str  # shown under the name, e.g. 「會員」 or "Gold"
    stamps: int
    stamps_required: int
    qr_data: str
    short_code: str  # "K7P4-QX9M", or "" when it is no longer known
    progress_label: str  # 「已集 2 / 3 點」
    reward_label: str  # 「再 1 點換 免費飲料」 or 「可兌換：免費飲料」
    code_label: str  # 「會員代碼」


def progress_texts(
    *, stamps: int, stamps_required: int, stamps_remaining: int, reward_name: str, locale: str
) -> tuple[str, str]:
    """The stamp count and what it leads to, e.g. ("2 of 3 stamps", "1 more for a free drink")."""
    progress = t("card.progress", locale, stamps=stamps, required=stamps_required)
    if stamps_remaining == 0:
        return progress, t("card.reward_ready", locale, reward=reward_name)
    return progress, t("card.reward_remaining", locale, remaining=stamps_remaining,
                       reward=reward_name)


def one_line(text: str) -> str:
    """`text` as one drawable line: what would break it becomes a space, runs of spaces
    one space, ends trimmed. Names come from platform profiles and may hold anything."""
    kept = "".join(
        " " if unicodedata.category(char) in _LINE_BREAKING else char
        for char in text[: MAX_DRAWN_CHARACTERS * 2]
    )
    return " ".join(kept.split())[:MAX_DRAWN_CHARACTERS]


def member_name_shown(name: str | None, locale: str) -> str:
    """The member's name as cards and the card page show it, or the catalog's fallback
    when there is none (an erased member) or nothing of it is drawable."""
    return one_line(name or "") or t("card.member_fallback_name", locale)


def card_design(
    *,
    brand_name: str,
    brand_color: str,
    member_name: str | None,
    tier: str | None,
    stamps: int,
    stamps_required: int,
    stamps_remaining: int,
    reward_name: str,
    qr_data: str,
    short_code: str,
    locale: str,
) -> CardDesign:
    """A CardDesign with its labels taken from the catalog for `locale`."""
    progress, reward = progress_texts(
        stamps=stamps, stamps_required=stamps_required, stamps_remaining=stamps_remaining,
        reward_name=reward_name, locale=locale,
    )
    return CardDesign(
        brand_name=brand_name,
        brand_color=brand_color,
        member_name=member_name_shown(member_name, locale),
        tier=tier or t("card.tier_default", locale),
        stamps=stamps,
        stamps_required=stamps_required,
        qr_data=qr_data,
        short_code=short_code,
        progress_label=progress,
        reward_label=reward,
        code_label=t("card.code_label", locale),
    )


def brand_rgb(color: str) -> Rgb:
    """The brand colour as RGB; a setting that does not parse falls back to the default."""
    try:
        red, green, blue = ImageColor.getrgb(color)[:3]
    except ValueError:
        return DEFAULT_BRAND_RGB
    return red, green, blue


def ink_on(background: Rgb) -> Rgb:
    """Dark ink or white, whichever reads better on `background`."""
    red, green, blue = background
    luminance = 0.299 * red + 0.587 * green + 0.114 * blue
    return INK_RGB if luminance > 160 else WHITE_RGB


def css_hex(rgb: Rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)
