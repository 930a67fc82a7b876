"""Neutral outbound messages into Send API `message` objects: text with quick replies,
the button template for a choice, a one-element generic template for the member card."""

from collections.abc import Sequence
from typing import Any

from bot.messenger import limits
from bot.messenger.limits import fit
from bot.types import Button, Card, Choice, OutboundMessage, Text


def render_messages(messages: Sequence[OutboundMessage]) -> list[dict[str, Any]]:
    """One Send API `message` object per outbound message, in order."""
    return [render_message(message) for message in messages]


def render_message(message: OutboundMessage) -> dict[str, Any]:
    if isinstance(message, Text):
        return _text(message)
    if isinstance(message, Choice):
        return _button_template(message)
    return _generic_template(message)


def _text(message: Text) -> dict[str, Any]:
    rendered: dict[str, Any] = {"text": fit(message.text, limits.TEXT)}
    # A quick reply can only send a payload back: buttons that open a page cannot be one.
    quick_replies = [
        {
            "content_type": "text",
            "title": fit(button.label, limits.QUICK_REPLY_TITLE),
            "payload": button.payload,
        }
        for button in message.quick_replies
        if button.payload is not None
    ][: limits.QUICK_REPLIES]
    if quick_replies:
        rendered["quick_replies"] = quick_replies
    return rendered


def _button_template(message: Choice) -> dict[str, Any]:
    return _template(
        {
            "template_type": "button",
            "text": fit(message.text, limits.BUTTON_TEMPLATE_TEXT),
            "buttons": _buttons(message.buttons),
        }
    )


def _generic_template(card: Card) -> dict[str, Any]:
    element: dict[str, Any] = {
        "title": fit(card.title, limits.ELEMENT_TITLE),
        "subtitle": _card_subtitle(card),
        "image_url": card.image_url,
    }
    buttons = _buttons(card.buttons)
    if buttons:
        element["buttons"] = buttons
    return _template(
        {"template_type": "generic", "image_aspect_ratio": "horizontal", "elements": [element]}
    )


def _card_subtitle(card: Card) -> str:
    """The progress line, then the short code for typing at the counter when both fit."""
    progress = fit(card.progress_text, limits.ELEMENT_SUBTITLE)
    if not card.short_code:
        return progress
    with_code = f"{progress}\n{card.short_code_label} {card.short_code}".strip()
    return with_code if limits.utf16_length(with_code) <= limits.ELEMENT_SUBTITLE else progress


def _buttons(buttons: Sequence[Button]) -> list[dict[str, Any]]:
    rendered = [_button(button) for button in buttons]
    return [button for button in rendered if button is not None][: limits.BUTTONS]


def _button(button: Button) -> dict[str, Any] | None:
    """A web_url button for a link (opened in the tall webview), a postback button for a
    payload; a button with neither does nothing on Messenger and is left out."""
    title = fit(button.label, limits.BUTTON_TITLE)
    if button.url is not None:
        return {
            "type": "web_url",
            "url": button.url,
            "title": title,
            "webview_height_ratio": "tall",
        }
    if button.payload is not None:
        return {"type": "postback", "title": title, "payload": button.payload}
    return None


def _template(payload: dict[str, Any]) -> dict[str, Any]:
    return {"attachment": {"type": "template", "payload": payload}}
