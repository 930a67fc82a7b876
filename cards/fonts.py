"""Fonts for drawn cards, found once per process through fontconfig.

Member names and labels are often Chinese, so a CJK font (Noto Sans CJK TC, from
Debian's `fonts-noto-cjk`) is preferred. Without one the card is still drawn, with
Pillow's built-in font, and CJK characters show as boxes.
"""

import logging
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from PIL import ImageFont

_log = logging.getLogger(__name__)

Style = Literal["regular", "bold", "mono"]
AnyFont = ImageFont.FreeTypeFont | ImageFont.ImageFont


@dataclass(frozen=True, slots=True)
class FontFile:
    path: str
    index: int = 0  # the face inside a .ttc collection


def _fontconfig(*args: str) -> list[str]:
    try:
        result = subprocess.run(args, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    return [line for line in result.stdout.splitlines() if line.strip()]


def _cjk_font(bold: bool) -> FontFile | None:
    lines = _fontconfig("fc-list", ":lang=zh-tw", "-f", "%{file}|%{index}|%{family}|%{style}\n")
    candidates: list[tuple[int, str, int]] = []
    for line in lines:
        path, index, family, style = (line.split("|") + ["", "", ""])[:4]
        if not index.isdigit():
            continue
        score = (
            ("Sans" in family) * 8
            + ("TC" in family) * 4
            + (("Bold" in style) == bold) * 2
            + ("Mono" not in family)
        )
        candidates.append((score, path, int(index)))
    if not candidates:
        return None
    _, best_path, best_index = max(candidates)
    return FontFile(best_path, best_index)


def _generic_font(pattern: str) -> FontFile | None:
    lines = _fontconfig("fc-match", pattern, "-f", "%{file}|%{index}\n")
    if not lines:
        return None
    path, _, index = lines[0].partition("|")
    return FontFile(path, int(index) if index.isdigit() else 0)


@lru_cache
def font_file(style: Style) -> FontFile | None:
    """The font file for a style; None when the system has none (then Pillow's own)."""
    if style == "mono":
        return _generic_font("monospace:bold")
    found = _cjk_font(bold=style == "bold")
    if found is None:
        _log.warning(
            "no CJK font found: Chinese text on cards shows as boxes "
            "(apt-get install fonts-noto-cjk)"
        )
        found = _generic_font("sans-serif:bold" if style == "bold" else "sans-serif")
    return found


@lru_cache(maxsize=64)
def font(style: Style, size: int) -> AnyFont:
    """A loaded font, cached: opening a CJK collection takes tens of milliseconds."""
    found = font_file(style)
    if found is not None:
        try:
            return ImageFont.truetype(found.path, size, index=found.index)
        except OSError:
            _log.warning("cannot load font %s", found.path)
    return ImageFont.load_default(size=size)
