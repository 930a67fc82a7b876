"""Send API length limits, and cutting text to them without breaking a character.

Meta counts characters the way JavaScript does (UTF-16 code units, so an emoji outside
the Basic Multilingual Plane counts twice). Measuring that way keeps a cut text within
the limit whichever way it is counted; cutting between whole grapheme clusters keeps an
emoji sequence, a flag or an accented letter from being split into a broken glyph.
"""

import unicodedata

TEXT = 2000
QUICK_REPLIES = 13
QUICK_REPLY_TITLE = 20
BUTTON_TITLE = 20
BUTTONS = 3
BUTTON_TEMPLATE_TEXT = 640
ELEMENT_TITLE = 80
ELEMENT_SUBTITLE = 80
MENU_ITEM_TITLE = 30
GREETING = 160

ELLIPSIS = "…"
_ZERO_WIDTH_JOINER = "\u200d"
# Code points that extend the cluster before them: variation selectors, emoji skin tones,
# and the tag characters of subdivision flags.
_EXTENDERS = (("\ufe00", "\ufe0f"), ("\U0001f3fb", "\U0001f3ff"), ("\U000e0020", "\U000e007f"))


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def fit(text: str, limit: int) -> str:
    """`text` unchanged when it fits in `limit`, else its longest run of whole grapheme
    clusters that fits with a trailing ellipsis."""
    if utf16_length(text) <= limit:
        return text
    room = limit - utf16_length(ELLIPSIS)
    kept: list[str] = []
    used = 0
    for cluster in _grapheme_clusters(text):
        size = utf16_length(cluster)
        if used + size > room:
            break
        kept.append(cluster)
        used += size
    return "".join(kept).rstrip() + ELLIPSIS


def _grapheme_clusters(text: str) -> list[str]:
    """An approximation of Unicode grapheme clusters, enough for safe cutting: marks,
    variation selectors, skin tones and ZWJ sequences stay with their base, regional
    indicators (flags) pair up."""
    clusters: list[str] = []
    for char in text:
        if clusters and _continues(clusters[-1], char):
            clusters[-1] += char
        else:
            clusters.append(char)
    return clusters


def _continues(cluster: str, char: str) -> bool:
    if cluster.endswith(_ZERO_WIDTH_JOINER) or char == _ZERO_WIDTH_JOINER:
        return True
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Mc"):
        return True
    if any(low <= char <= high for low, high in _EXTENDERS):
        return True
    return _is_regional_indicator(char) and len(cluster) == 1 and _is_regional_indicator(cluster)


def _is_regional_indicator(char: str) -> bool:
    return "\U0001f1e6" <= char <= "\U0001f1ff"
