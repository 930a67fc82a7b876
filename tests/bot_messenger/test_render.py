from bot.messenger import limits
from bot.messenger.render import render_messages
from bot.types import Button, Card, Choice, Text


def _card(**overrides: object) -> Card:
    fields: dict = {
        "alt_text": "Your member card",
        "title": "Punchline Coffee · 王小明",
        "image_url": "https://shop.example/cards/abc.png",
        "progress_text": "已集 2 / 3 點，再 1 點換一杯飲料",
        "stamps": 2,
        "stamps_required": 3,
        "short_code": "K7Q-4M2",
        "short_code_label": "會員代碼",
        "buttons": (
            Button("即時會員卡", url="https://shop.example/card/live"),
            Button("我的獎勵", payload="REWARDS"),
            Button("邀請朋友", payload="INVITE"),
        ),
    }
    fields.update(overrides)
    return Card(**fields)


def test_text_with_quick_replies() -> None:
    [message] = render_messages(
        [Text("接收優惠通知？", (Button("接收優惠通知", "OPT_IN"), Button("先不用", "OPT_OUT")))]
    )
    assert message == {
        "text": "接收優惠通知？",
        "quick_replies": [
            {"content_type": "text", "title": "接收優惠通知", "payload": "OPT_IN"},
            {"content_type": "text", "title": "先不用", "payload": "OPT_OUT"},
        ],
    }


def test_plain_text_has_no_quick_replies_key() -> None:
    assert render_messages([Text("hi")]) == [{"text": "hi"}]


def test_quick_replies_drop_links_and_stop_at_thirteen() -> None:
    buttons = (Button("Open", url="https://shop.example"),) + tuple(
        Button(f"Option {n}", payload=f"P{n}") for n in range(20)
    )
    [message] = render_messages([Text("Pick one", buttons)])
    quick_replies = message["quick_replies"]
    assert len(quick_replies) == limits.QUICK_REPLIES == 13
    assert [reply["payload"] for reply in quick_replies] == [f"P{n}" for n in range(13)]


def test_only_links_means_no_quick_replies() -> None:
    [message] = render_messages([Text("See", (Button("Open", url="https://shop.example"),))])
    assert "quick_replies" not in message


def test_long_quick_reply_titles_and_text_are_cut_within_limits() -> None:
    [message] = render_messages([Text("字" * 3000, (Button("好" * 30, "P"),))])
    assert len(message["text"]) == limits.TEXT
    assert message["text"].endswith("…")
    assert message["quick_replies"][0]["title"] == "好" * 19 + "…"


def test_a_choice_is_a_button_template() -> None:
    choice = Choice(
        "確定要刪除你的資料嗎？",
        (Button("刪除", payload="DELETE_CONFIRM"), Button("取消", payload="DELETE_CANCEL")),
    )
    [message] = render_messages([choice])
    assert message == {
        "attachment": {
            "type": "template",
            "payload": {
                "template_type": "button",
                "text": "確定要刪除你的資料嗎？",
                "buttons": [
                    {"type": "postback", "title": "刪除", "payload": "DELETE_CONFIRM"},
                    {"type": "postback", "title": "取消", "payload": "DELETE_CANCEL"},
                ],
            },
        }
    }


def test_a_choice_keeps_three_buttons_and_640_characters() -> None:
    buttons = tuple(Button(f"B{n}", payload=f"P{n}") for n in range(5)) + (Button("nothing"),)
    [message] = render_messages([Choice("🙂" * 400, buttons)])
    payload = message["attachment"]["payload"]
    assert limits.utf16_length(payload["text"]) <= limits.BUTTON_TEMPLATE_TEXT
    assert payload["text"].startswith("🙂" * 300)
    assert [button["payload"] for button in payload["buttons"]] == ["P0", "P1", "P2"]


def test_a_card_is_a_one_element_generic_template() -> None:
    [message] = render_messages([_card()])
    payload = message["attachment"]["payload"]
    assert payload["template_type"] == "generic"
    assert payload["image_aspect_ratio"] == "horizontal"
    [element] = payload["elements"]
    assert element["title"] == "Punchline Coffee · 王小明"
    assert element["subtitle"] == "已集 2 / 3 點，再 1 點換一杯飲料\n會員代碼 K7Q-4M2"
    assert element["image_url"] == "https://shop.example/cards/abc.png"
    assert element["buttons"] == [
        {
            "type": "web_url",
            "url": "https://shop.example/card/live",
            "title": "即時會員卡",
            "webview_height_ratio": "tall",
        },
        {"type": "postback", "title": "我的獎勵", "payload": "REWARDS"},
        {"type": "postback", "title": "邀請朋友", "payload": "INVITE"},
    ]


def test_a_card_leaves_the_code_out_when_it_does_not_fit() -> None:
    progress = "2 of 3 stamps — 1 more for a free drink. Show the QR at the counter."
    assert len(progress) + len("\n會員代碼 K7Q-4M2") > limits.ELEMENT_SUBTITLE >= len(progress)
    [message] = render_messages([_card(progress_text=progress)])
    assert message["attachment"]["payload"]["elements"][0]["subtitle"] == progress


def test_a_card_without_a_code_shows_the_progress_only() -> None:
    [message] = render_messages([_card(short_code=None)])
    assert message["attachment"]["payload"]["elements"][0]["subtitle"] == (
        "已集 2 / 3 點，再 1 點換一杯飲料"
    )


def test_a_card_cuts_long_titles_and_progress_and_keeps_three_buttons() -> None:
    many = tuple(Button(f"B{n}", payload=f"P{n}") for n in range(5))
    card = _card(title="王" * 100, progress_text="點" * 100, buttons=many)
    [element] = render_messages([card])[0]["attachment"]["payload"]["elements"]
    assert element["title"] == "王" * 79 + "…"
    assert element["subtitle"] == "點" * 79 + "…"
    assert len(element["buttons"]) == limits.BUTTONS


def test_messages_render_in_order() -> None:
    rendered = render_messages([Text("one"), _card(), Text("two")])
    assert [message.get("text") for message in rendered] == ["one", None, "two"]
