"""Turn what a person typed or tapped into an intent and its argument."""

import re
from dataclasses import dataclass

from bot.postbacks import (
    BIRTHDAY,
    CARD,
    CONSENT_NO,
    CONSENT_YES,
    DELETE_ASK,
    DELETE_NO,
    DELETE_YES,
    HELP,
    INVITE,
    LANGUAGE,
    LINK,
    REWARDS,
    SET_LOCALE_PREFIX,
    STAMPS,
    START,
    STOP,
)
from bot.types import InboundEvent
from loyalty.join_links import STORE_REF_PREFIX, store_id_of_ref

_KEYWORDS: dict[str, str] = {
    "card": CARD, "member card": CARD, "會員卡": CARD, "卡": CARD, "qr": CARD,
    "stamps": STAMPS, "stamp": STAMPS, "points": STAMPS, "點數": STAMPS, "集點": STAMPS,
    "rewards": REWARDS, "reward": REWARDS, "獎勵": REWARDS, "我的獎勵": REWARDS,
    "invite": INVITE, "邀請": INVITE, "邀請朋友": INVITE,
    "stop": STOP, "停止": STOP, "unsubscribe": STOP,
    "start": START, "開始": START, "subscribe": START,
    "delete": DELETE_ASK, "delete my data": DELETE_ASK, "刪除資料": DELETE_ASK, "刪除": DELETE_ASK,
    "language": LANGUAGE, "語言": LANGUAGE, "lang": LANGUAGE,
    "english": SET_LOCALE_PREFIX + "en", "中文": SET_LOCALE_PREFIX + "zh-TW",
    "help": HELP, "說明": HELP, "?": HELP, "？": HELP, "menu": HELP, "選單": HELP,
    "link": LINK, "連結": LINK,
    "birthday": BIRTHDAY, "生日": BIRTHDAY,
}
# "link 123456" / "連結 123456" redeems a link code; "ref AB12CD" / "邀請碼 AB12CD" a referral.
_LINK_WITH_CODE = re.compile(r"^(?:link|連結)\s*(\d{6})$", re.IGNORECASE)
# "birthday 05-12", "生日 1990/5/12": the year is optional and not needed for the reward.
_BIRTHDAY = re.compile(
    r"^(?:birthday|生日)\s*(?:(\d{4})[-/.])?(\d{1,2})[-/.](\d{1,2})$", re.IGNORECASE
)
_REFERRAL_WITH_CODE = re.compile(
    r"^(?:ref|invite code|邀請碼)\s*([A-Za-z0-9]{4,16})$", re.IGNORECASE
)
# "store 3" / "門市 3": the message a store's join link prefills on LINE.
_STORE_WITH_ID = re.compile(r"^(?:store|門市)\s*(\d{1,10})$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Intent:
    name: str
    argument: str | None = None


def intent_of(event: InboundEvent) -> Intent:
    if event.kind in ("follow", "referral") and (store_id := store_id_of_ref(event.referral)):
        return Intent("store_join", str(store_id))
    if event.kind == "follow":
        return Intent("join", event.referral)
    if event.kind == "referral":
        return Intent("referral", event.referral)
    if event.kind == "optin":
        return Intent("optin", event.optin_token)
    if event.source_type == "optin_stop":
        return Intent("optin_stop")
    if event.payload:
        return _intent_of_words(event.payload, payload=True)
    if event.text:
        return _intent_of_words(event.text, payload=False)
    return Intent(HELP)


def _intent_of_words(words: str, *, payload: bool) -> Intent:
    spoken = " ".join(words.strip().split()).lower()
    if spoken.startswith(SET_LOCALE_PREFIX):
        return Intent("set_locale", words.strip()[len(SET_LOCALE_PREFIX):])
    if payload and spoken in {CONSENT_YES, CONSENT_NO, DELETE_YES, DELETE_NO}:
        return Intent(spoken)
    if match := _BIRTHDAY.match(spoken):
        year, month, day = match.groups()
        return Intent("birthday", f"{year or ''}-{month}-{day}")
    if match := _LINK_WITH_CODE.match(spoken):
        return Intent("link_redeem", match.group(1))
    if match := _REFERRAL_WITH_CODE.match(words.strip()):
        return Intent("referral", match.group(1).upper())
    if (match := _STORE_WITH_ID.match(spoken)) and (store_id := store_id_of_ref(
            STORE_REF_PREFIX + match.group(1))):
        return Intent("store_join", str(store_id))
    name = _KEYWORDS.get(spoken)
    if name is None:
        return Intent(HELP)
    if name.startswith(SET_LOCALE_PREFIX):
        return Intent("set_locale", name[len(SET_LOCALE_PREFIX):])
    return Intent(name)
