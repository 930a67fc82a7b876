import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.messenger.limits import ELLIPSIS, fit, utf16_length


def test_text_that_fits_is_unchanged() -> None:
    assert fit("會員卡", 3) == "會員卡"
    assert fit("", 20) == ""


def test_cjk_text_is_cut_by_characters_with_an_ellipsis() -> None:
    assert fit("已集 2 / 3 點，再 1 點換一杯飲料", 11) == "已集 2 / 3 點" + ELLIPSIS


def test_emoji_count_as_two_units_and_are_never_split() -> None:
    assert utf16_length("☕😀") == 3
    assert fit("😀😀😀", 4) == "😀" + ELLIPSIS


@pytest.mark.parametrize(
    "cluster",
    [
        "👩\u200d👩\u200d👧",  # a ZWJ family
        "👍🏽",  # a skin tone
        "🇹🇼",  # a flag: two regional indicators
        "e\u0301",  # an accent as a combining mark
        "❤\ufe0f",  # a variation selector
    ],
)
def test_a_grapheme_cluster_is_kept_whole_or_dropped_whole(cluster: str) -> None:
    text = "ab" + cluster * 4
    for limit in range(3, utf16_length(text)):
        cut = fit(text, limit).removesuffix(ELLIPSIS)
        assert cut.removeprefix("ab") == cluster * (len(cut.removeprefix("ab")) // len(cluster))


@given(st.text(), st.integers(min_value=1, max_value=700))
def test_the_result_always_fits_and_starts_like_the_text(text: str, limit: int) -> None:
    cut = fit(text, limit)
    assert utf16_length(cut) <= limit
    assert text.startswith(cut.removesuffix(ELLIPSIS).rstrip()) or cut == text
