import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from cards import fonts
from cards.design import MAX_DRAWN_CHARACTERS, CardDesign, card_design, one_line
from cards.image import HEIGHT, WIDTH, draw_card
from cards.tokens import issue_qr_token, verify_qr_token
from core.i18n import t
from tests.cards.decoding import decode_qr, qr_width_px
from tests.cards.members import NASTY_NAMES

SECRET = "test-secret-key-with-enough-characters"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _design(token: str, **changes: object) -> CardDesign:
    values: dict = {
        "brand_name": "Punchline Coffee",
        "brand_color": "#0F766E",
        "member_name": "王小明",
        "tier": None,
        "stamps": 2,
        "stamps_required": 3,
        "stamps_remaining": 1,
        "reward_name": "免費飲料",
        "qr_data": token,
        "short_code": "K7P4-QX9M",
        "locale": "zh-TW",
    }
    values.update(changes)
    return card_design(**values)


def _token() -> str:
    return issue_qr_token(SECRET, member_id=1234, now=NOW, ttl_seconds=900).token


def test_the_card_is_a_20_by_13_png_whose_qr_a_scanner_reads(artifacts_dir: Path) -> None:
    token = _token()

    png = draw_card(_design(token))

    (artifacts_dir / "card-zh-TW.png").write_bytes(png)
    image = Image.open(io.BytesIO(png))
    assert (image.format, image.size) == ("PNG", (WIDTH, HEIGHT)) == ("PNG", (1040, 676))
    [result] = decode_qr(image)
    assert verify_qr_token(SECRET, result.text, now=NOW).member_id == 1234
    assert qr_width_px(result) >= 200


@pytest.mark.parametrize(
    "changes",
    [
        {"stamps": 0, "stamps_required": 12, "stamps_remaining": 12, "locale": "en",
         "member_name": "A" * 200},
        {"stamps": 3, "stamps_required": 3, "stamps_remaining": 0, "brand_color": "#FDE68A",
         "tier": "Gold"},
        {"stamps": 0, "stamps_required": 1, "stamps_remaining": 1,
         "brand_color": "not a colour", "short_code": ""},
        {"member_name": None, "brand_name": "超長的品牌名稱" * 8},
    ],
    ids=["many stamps, long name", "light brand, reward ready", "bad colour, no code", "no name"],
)
def test_unusual_cards_still_draw_a_readable_qr(changes: dict) -> None:
    token = _token()

    png = draw_card(_design(token, **changes))

    assert [result.text for result in decode_qr(png)] == [token]


@pytest.fixture
def no_system_fonts(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    fonts.font.cache_clear()
    monkeypatch.setattr(fonts, "font_file", lambda _style: None)
    yield
    fonts.font.cache_clear()


@pytest.mark.usefixtures("no_system_fonts")
def test_a_card_draws_without_any_system_font() -> None:
    token = _token()

    png = draw_card(_design(token, locale="en", member_name="Amy"))

    assert [result.text for result in decode_qr(png)] == [token]


def test_the_labels_follow_the_locale() -> None:
    zh = _design("x", stamps=1, stamps_required=3, stamps_remaining=2)
    en = _design("x", stamps=1, stamps_required=3, stamps_remaining=2, locale="en",
                 reward_name="a free drink")

    assert (zh.progress_label, zh.reward_label, zh.tier) == (
        "已集 1 / 3 點",
        "再 2 點換免費飲料",
        "會員",
    )
    assert (en.progress_label, en.reward_label) == ("1 of 3 stamps", "2 more for a free drink")


@pytest.mark.parametrize("name", NASTY_NAMES)
def test_any_name_a_profile_may_carry_is_drawn(name: str) -> None:
    png = draw_card(_design(_token(), member_name=NASTY_NAMES[name], reward_name="Free\ncoffee"))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("Amy\nChen", "Amy Chen"),
        ("Amy\r\n\u2029\u2028\u0085\tChen", "Amy Chen"),
        ("  \x1bAmy\x00 ", "Amy"),
        ("\n\r\t", ""),
        ("\u202eAmy\u200f", "\u202eAmy\u200f"),  # format characters shape the text: kept
        ("王小明", "王小明"),
    ],
)
def test_a_drawn_line_holds_no_line_break_or_control_character(text: str, line: str) -> None:
    assert one_line(text) == line


def test_a_drawn_line_is_bounded_however_long_the_name() -> None:
    assert len(one_line("名" * 10_000)) == MAX_DRAWN_CHARACTERS


def test_a_name_with_nothing_drawable_falls_back_to_the_default_name() -> None:
    design = _design(_token(), member_name="\n\u2029\t ")
    assert design.member_name == t("card.member_fallback_name", "zh-TW")
