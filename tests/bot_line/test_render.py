from typing import Any

import pytest
from linebot.v3.messaging import FlexMessage, TemplateMessage, TextMessage

from bot.line.render import clip, render_messages
from bot.types import Button, Card, Choice, Text

ACCENT = "#0F766E"


def _card(**changes: object) -> Card:
    fields: dict[str, Any] = {
        "alt_text": "會員卡：已集 2 / 3 點",
        "title": "Punchline Coffee · 小明",
        "image_url": "https://example.com/cards/abc.png",
        "progress_text": "已集 2 / 3 點，再 1 點換一杯飲料",
        "stamps": 2,
        "stamps_required": 3,
        "short_code": "K7Q2MX",
        "short_code_label": "會員代碼",
        "buttons": (
            Button("即時會員卡", url="https://example.com/live"),
            Button("我的獎勵", payload="rewards"),
            Button("邀請朋友", payload="invite"),
        ),
        "tier": "金卡",
    }
    fields.update(changes)
    return Card(**fields)


def _assert_valid(model: type[Any], rendered: dict) -> None:
    """The SDK's model accepts the dict and keeps every field of it: a misspelt or unknown
    field would be dropped, a wrong enum value refused."""
    _assert_kept(rendered, model.from_dict(rendered).to_dict())


def _assert_kept(ours: object, sdk: object) -> None:
    if isinstance(ours, dict):
        assert isinstance(sdk, dict)
        for key, value in ours.items():
            assert key in sdk, f"the SDK dropped {key!r}"
            _assert_kept(value, sdk[key])
    elif isinstance(ours, list):
        assert isinstance(sdk, list) and len(sdk) == len(ours)
        for mine, theirs in zip(ours, sdk, strict=True):
            _assert_kept(mine, theirs)
    else:
        assert ours == sdk


def _texts(box: dict) -> list[str]:
    """Every text of a Flex box, depth first."""
    found: list[str] = []
    for component in box["contents"]:
        if component["type"] == "box":
            found.extend(_texts(component))
        elif component["type"] == "text":
            found.append(component["text"])
    return found


def test_text_with_quick_replies_is_a_valid_line_text_message() -> None:
    (rendered,) = render_messages(
        [
            Text(
                "歡迎加入！",
                quick_replies=(
                    Button("接收優惠通知", payload="optin:yes"),
                    Button("先不用", payload="optin:no"),
                    Button("說明", url="https://example.com/help"),
                ),
            )
        ]
    )
    _assert_valid(TextMessage, rendered)
    actions = [item["action"] for item in rendered["quickReply"]["items"]]
    assert actions[0] == {
        "type": "postback",
        "label": "接收優惠通知",
        "data": "optin:yes",
        "displayText": "接收優惠通知",
    }
    assert actions[2] == {"type": "uri", "label": "說明", "uri": "https://example.com/help"}


def test_plain_text_has_no_quick_reply() -> None:
    assert render_messages([Text("hi")]) == [{"type": "text", "text": "hi"}]


def test_long_text_is_clipped_to_5000_utf16_units_without_splitting_an_emoji() -> None:
    (rendered,) = render_messages([Text("a" + "😄" * 3000)])
    text = rendered["text"]
    assert len(text.encode("utf-16-le")) // 2 <= 5000
    assert text.endswith("…")
    assert text[:-1] == "a" + "😄" * 2499


def test_clip_leaves_short_texts_alone() -> None:
    assert clip("會員卡", 3) == "會員卡"
    assert clip("會員卡片", 3) == "會員…"


def test_more_than_13_quick_replies_is_refused() -> None:
    buttons = tuple(Button(str(n), payload=str(n)) for n in range(14))
    with pytest.raises(ValueError, match="13"):
        render_messages([Text("pick", quick_replies=buttons)])


@pytest.mark.parametrize("count", [0, 6])
def test_message_count_outside_1_to_5_is_refused(count: int) -> None:
    with pytest.raises(ValueError, match="1 to 5"):
        render_messages([Text("x")] * count)


def test_five_messages_are_allowed() -> None:
    assert len(render_messages([Text("x")] * 5)) == 5


def test_two_postback_buttons_make_a_confirm_template() -> None:
    (rendered,) = render_messages(
        [
            Choice(
                "確定要刪除你的資料嗎？",
                (Button("刪除", payload="delete:yes"), Button("取消", payload="delete:no")),
            )
        ]
    )
    _assert_valid(TemplateMessage, rendered)
    assert rendered["altText"] == "確定要刪除你的資料嗎？"
    assert rendered["template"]["type"] == "confirm"
    assert [action["data"] for action in rendered["template"]["actions"]] == [
        "delete:yes",
        "delete:no",
    ]


def test_other_choices_make_a_buttons_template() -> None:
    choices = [
        Choice("Language?", (Button("中文", payload="lang:zh"),)),
        Choice("Open", (Button("Card", url="https://example.com/c"), Button("No", payload="n"))),
        Choice("x" * 300, tuple(Button(str(n), payload=str(n)) for n in range(3))),
    ]
    rendered = render_messages(choices)
    for message in rendered:
        _assert_valid(TemplateMessage, message)
        assert message["template"]["type"] == "buttons"
    assert rendered[1]["template"]["actions"][0]["type"] == "uri"
    assert len(rendered[2]["template"]["text"]) == 160


def test_choice_with_too_many_buttons_is_refused() -> None:
    with pytest.raises(ValueError):
        render_messages([Choice("x", tuple(Button(str(n), payload=str(n)) for n in range(5)))])


def test_button_without_payload_or_url_is_refused() -> None:
    with pytest.raises(ValueError, match="neither"):
        render_messages([Text("x", quick_replies=(Button("dead"),))])


def test_card_is_a_valid_flex_bubble() -> None:
    (rendered,) = render_messages([_card()], accent_color=ACCENT)
    _assert_valid(FlexMessage, rendered)
    assert rendered["altText"] == "會員卡：已集 2 / 3 點"


def test_card_hero_is_the_drawn_card_kept_whole() -> None:
    (rendered,) = render_messages([_card()])
    assert rendered["contents"]["hero"] == {
        "type": "image",
        "url": "https://example.com/cards/abc.png",
        "size": "full",
        "aspectRatio": "20:13",
        "aspectMode": "fit",
    }


def test_card_body_shows_title_tier_stamps_progress_and_short_code() -> None:
    (rendered,) = render_messages([_card()], accent_color=ACCENT)
    body = rendered["contents"]["body"]
    assert _texts(body) == [
        "Punchline Coffee · 小明",
        "金卡",
        "●●○",
        "已集 2 / 3 點，再 1 點換一杯飲料",
        "會員代碼",
        "K7Q2MX",
    ]
    stamp_row = body["contents"][2]
    assert stamp_row["contents"] == [
        {"type": "span", "text": "●●", "color": ACCENT},
        {"type": "span", "text": "○", "color": "#8A8A8A"},
    ]
    code = body["contents"][-1]["contents"][-1]
    assert code["size"] == "3xl" and code["weight"] == "bold"


def test_card_without_tier_or_short_code_omits_them() -> None:
    (rendered,) = render_messages([_card(tier=None, short_code=None, stamps=5)])
    _assert_valid(FlexMessage, rendered)
    assert _texts(rendered["contents"]["body"]) == [
        "Punchline Coffee · 小明",
        "●●●",
        "已集 2 / 3 點，再 1 點換一杯飲料",
    ]


def test_card_buttons_open_urls_or_post_back_with_the_first_primary() -> None:
    (rendered,) = render_messages([_card()], accent_color=ACCENT)
    buttons = rendered["contents"]["footer"]["contents"]
    assert [button["style"] for button in buttons] == ["primary", "secondary", "secondary"]
    assert buttons[0]["color"] == ACCENT
    assert buttons[0]["action"] == {
        "type": "uri",
        "label": "即時會員卡",
        "uri": "https://example.com/live",
    }
    assert buttons[1]["action"]["data"] == "rewards"
    assert buttons[1]["action"]["displayText"] == "我的獎勵"


def test_card_without_buttons_has_no_footer() -> None:
    (rendered,) = render_messages([_card(buttons=())])
    assert "footer" not in rendered["contents"]
    _assert_valid(FlexMessage, rendered)


def test_unknown_message_type_is_refused() -> None:
    with pytest.raises(TypeError):
        render_messages(["plain string"])  # type: ignore[list-item]  # the wrong type on purpose
