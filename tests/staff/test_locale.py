"""The staff page speaks the staff's chosen language, else the browser's."""

import pytest

from core.i18n import preferred_locale


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en-US,en;q=0.9", "en"),
        ("zh-TW,zh;q=0.9,en;q=0.8", "zh-TW"),
        ("zh-Hant-TW", "zh-TW"),
        ("fr-FR,en;q=0.5,zh-TW;q=0.7", "zh-TW"),
        ("fr-FR,de;q=0.8", "zh-TW"),
        ("en;q=0,zh-TW;q=0.1", "zh-TW"),
        ("*", "zh-TW"),
        ("", "zh-TW"),
        (None, "zh-TW"),
        ("en;q=oops,zh-TW;q=0.5", "zh-TW"),
    ],
)
def test_accept_language_picks_the_highest_ranked_supported_locale(
    header: str | None, expected: str
) -> None:
    assert preferred_locale(header, "zh-TW") == expected


def test_without_a_supported_language_the_shop_default_is_used() -> None:
    assert preferred_locale("ja-JP", "en") == "en"
