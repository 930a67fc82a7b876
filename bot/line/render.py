"""Neutral `OutboundMessage`s into LINE message objects, as plain dicts.

Built by hand rather than through line-bot-sdk's pydantic models: this runs on the reply
path and in the delivery engine, and the tests check every shape against those models.
LINE's hard limits (messages per call, quick-reply items, template actions) raise
ValueError, since breaking them is a bug in the caller; texts that may come from people
(names, titles) are clipped to LINE's lengths instead.
"""

from collections.abc import Sequence
from typing import Any

from bot.types import Button, Card, Choice, OutboundMessage, Text

MAX_MESSAGES = 5
MAX_TEXT = 5000
MAX_ALT_TEXT = 400
MAX_QUICK_REPLIES = 13
MAX_TEMPLATE_ACTIONS = 4
MAX_BUTTONS_TEXT = 160
MAX_CONFIRM_TEXT = 240
MAX_ACTION_LABEL = 20
MAX_FLEX_BUTTON_LABEL = 40
MAX_POSTBACK_DATA = 300
MAX_STAMP_CIRCLES = 20
# The card image cards/ draws is 20:13; the hero keeps it whole (aspectMode fit).
CARD_ASPECT_RATIO = "20:13"
FILLED_STAMP = "●"
EMPTY_STAMP = "○"
_MUTED = "#8A8A8A"

Json = dict[str, Any]


def render_messages(
    messages: Sequence[OutboundMessage], *, accent_color: str | None = None
) -> list[Json]:
    """The message objects of one LINE send call (1 to 5 messages).

    `accent_color` (e.g. the brand colour) tints the stamp row and the card's primary
    button; without it LINE's own colours are used.
    """
    if not 1 <= len(messages) <= MAX_MESSAGES:
        raise ValueError(f"LINE sends 1 to {MAX_MESSAGES} messages a call, got {len(messages)}")
    return [_render(message, accent_color) for message in messages]


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` UTF-16 code units (LINE's count, which is never
    below Python's), ending with an ellipsis and never splitting a character."""
    if _utf16_length(text) <= limit:
        return text
    budget = limit - 1  # room for the ellipsis
    kept: list[str] = []
    for char in text:
        budget -= _utf16_length(char)
        if budget < 0:
            break
        kept.append(char)
    return "".join(kept) + "…"


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _render(message: OutboundMessage, accent_color: str | None) -> Json:
    if isinstance(message, Text):
        return _render_text(message)
    if isinstance(message, Choice):
        return _render_choice(message)
    if isinstance(message, Card):
        return _render_card(message, accent_color)
    raise TypeError(f"cannot render {type(message).__name__} for LINE")


def _render_text(message: Text) -> Json:
    rendered: Json = {"type": "text", "text": clip(message.text, MAX_TEXT)}
    if message.quick_replies:
        if len(message.quick_replies) > MAX_QUICK_REPLIES:
            raise ValueError(f"LINE allows {MAX_QUICK_REPLIES} quick replies")
        rendered["quickReply"] = {
            "items": [
                {"type": "action", "action": _action(button, MAX_ACTION_LABEL)}
                for button in message.quick_replies
            ]
        }
    return rendered


def _render_choice(message: Choice) -> Json:
    if not 1 <= len(message.buttons) <= MAX_TEMPLATE_ACTIONS:
        raise ValueError(f"a LINE template holds 1 to {MAX_TEMPLATE_ACTIONS} buttons")
    actions = [_action(button, MAX_ACTION_LABEL) for button in message.buttons]
    is_confirm = len(message.buttons) == 2 and all(b.payload and not b.url for b in message.buttons)
    template: Json = (
        {"type": "confirm", "text": clip(message.text, MAX_CONFIRM_TEXT), "actions": actions}
        if is_confirm
        else {"type": "buttons", "text": clip(message.text, MAX_BUTTONS_TEXT), "actions": actions}
    )
    return {"type": "template", "altText": clip(message.text, MAX_ALT_TEXT), "template": template}


def _render_card(card: Card, accent_color: str | None) -> Json:
    bubble: Json = {
        "type": "bubble",
        "hero": {
            "type": "image",
            "url": card.image_url,
            "size": "full",
            "aspectRatio": CARD_ASPECT_RATIO,
            "aspectMode": "fit",
        },
        "body": {
            "type": "box",
            "layout": "vertical",
            "spacing": "md",
            "contents": _card_body(card, accent_color),
        },
    }
    if card.buttons:
        bubble["footer"] = {
            "type": "box",
            "layout": "vertical",
            "spacing": "sm",
            "contents": _card_buttons(card.buttons, accent_color),
        }
    return {"type": "flex", "altText": clip(card.alt_text, MAX_ALT_TEXT), "contents": bubble}


def _card_body(card: Card, accent_color: str | None) -> list[Json]:
    contents: list[Json] = [
        {"type": "text", "text": card.title, "weight": "bold", "size": "xl", "wrap": True}
    ]
    if card.tier:
        contents.append({"type": "text", "text": card.tier, "size": "sm", "color": _MUTED})
    if 0 < card.stamps_required <= MAX_STAMP_CIRCLES:
        contents.append(_stamp_row(card.stamps, card.stamps_required, accent_color))
    contents.append({"type": "text", "text": card.progress_text, "size": "md", "wrap": True})
    if card.short_code:
        contents.append(_short_code_box(card.short_code_label, card.short_code))
    return contents


def _stamp_row(stamps: int, required: int, accent_color: str | None) -> Json:
    filled = max(0, min(stamps, required))
    filled_span: Json = {"type": "span", "text": FILLED_STAMP * filled}
    if accent_color:
        filled_span["color"] = accent_color
    empty_span: Json = {"type": "span", "text": EMPTY_STAMP * (required - filled), "color": _MUTED}
    spans = [span for span in (filled_span, empty_span) if span["text"]]
    return {
        "type": "text",
        # `text` is what clients without span support show.
        "text": FILLED_STAMP * filled + EMPTY_STAMP * (required - filled),
        "contents": spans,
        "size": "xxl",
        "wrap": True,
    }


def _short_code_box(label: str, short_code: str) -> Json:
    # Flex has no font family: a large, bold, centred code on its own line reads like a
    # typed code, which is what the barista copies when the camera fails.
    return {
        "type": "box",
        "layout": "vertical",
        "margin": "lg",
        "contents": [
            {"type": "text", "text": label, "size": "xs", "color": _MUTED, "align": "center"},
            {
                "type": "text",
                "text": short_code,
                "size": "3xl",
                "weight": "bold",
                "align": "center",
            },
        ],
    }


def _card_buttons(buttons: Sequence[Button], accent_color: str | None) -> list[Json]:
    rendered: list[Json] = []
    for position, button in enumerate(buttons):
        flex_button: Json = {
            "type": "button",
            "style": "primary" if position == 0 else "secondary",
            "height": "sm",
            "action": _action(button, MAX_FLEX_BUTTON_LABEL),
        }
        if position == 0 and accent_color:
            flex_button["color"] = accent_color
        rendered.append(flex_button)
    return rendered


def _action(button: Button, label_limit: int) -> Json:
    label = clip(button.label, label_limit)
    if button.url:
        return {"type": "uri", "label": label, "uri": button.url}
    if button.payload:
        if len(button.payload) > MAX_POSTBACK_DATA:
            raise ValueError(f"LINE postback data is at most {MAX_POSTBACK_DATA} characters")
        return {
            "type": "postback",
            "label": label,
            "data": button.payload,
            "displayText": clip(button.label, MAX_POSTBACK_DATA),
        }
    raise ValueError(f"button {button.label!r} has neither a payload nor a url")
