"""Message catalogs. Every text a person reads comes from here, none is inline in code.

Catalogs live in core/locales/<area>.<locale>.json (chat, card, staff, errors, ...);
all files of one locale merge into one catalog, and a key defined twice is an error.
"""

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

SUPPORTED_LOCALES = ("zh-TW", "en")
DEFAULT_LOCALE = "zh-TW"
_LOCALES_DIR = Path(__file__).parent / "locales"


def normalize_locale(value: str | None) -> str:
    """Map a platform language tag ("zh-Hant", "zh_TW", "en-US") onto a supported locale."""
    if not value:
        return DEFAULT_LOCALE
    tag = value.replace("_", "-").lower()
    if tag.startswith("en"):
        return "en"
    if tag.startswith("zh"):
        return "zh-TW"
    return DEFAULT_LOCALE


def preferred_locale(accept_language: str | None, default: str = DEFAULT_LOCALE) -> str:
    """The supported locale an Accept-Language header ranks highest, else `default`."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.strip().partition(";")
        quality = _quality(params)
        if tag and tag != "*" and quality > 0 and tag.lower()[:2] in ("zh", "en"):
            ranked.append((-quality, position, normalize_locale(tag)))
    return min(ranked)[2] if ranked else default


def _quality(params: str) -> float:
    name, _, value = params.strip().partition("=")
    if name.strip() != "q":
        return 1.0
    try:
        return float(value)
    except ValueError:
        return 0.0


@lru_cache
def catalog(locale: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in sorted(_LOCALES_DIR.glob(f"*.{locale}.json")):
        entries = json.loads(path.read_text(encoding="utf-8"))
        duplicated = merged.keys() & entries.keys()
        if duplicated:
            raise ValueError(f"{path.name} redefines {sorted(duplicated)}")
        merged.update(entries)
    return merged


def t(key: str, locale: str | None = None, /, **params: Any) -> str:
    """The text for `key` in `locale`, falling back to the default locale, then the key."""
    lang = locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE
    template = catalog(lang).get(key) or catalog(DEFAULT_LOCALE).get(key)
    if template is None:
        raise KeyError(f"no text for {key!r}")
    return template.format(**params) if params else template
