"""Small helpers for tests that need members."""

from cards.models import Member
from cards.service import JoinResult, join_member
from core.db import Database
from core.settings import Settings


async def join(
    db: Database,
    settings: Settings,
    *,
    platform: str = "line",
    user_id: str = "U-amy",
    name: str | None = "Amy",
    locale: str = "zh-TW",
    referral_code: str | None = None,
) -> JoinResult:
    async with db.transaction() as session:
        return await join_member(
            session,
            platform=platform,
            platform_user_id=user_id,
            display_name=name,
            locale=locale,
            secret_key=settings.secret_key,
            referral_code=referral_code,
        )


async def reload(db: Database, member_id: int) -> Member:
    async with db.transaction() as session:
        member = await session.get(Member, member_id)
        assert member is not None
        return member


# Names a platform profile may carry, each of which once broke or could break a card.
NASTY_NAMES = {
    "line feed": "Amy\nChen",
    "carriage return": "Amy\rChen",
    "crlf": "Amy\r\nChen",
    "paragraph separator": "Amy\u2029Chen",
    "next line": "Amy\u0085Chen",
    "line separator": "Amy\u2028Chen",
    "tab": "Amy\tChen",
    "control characters": "\x1b[31mAmy\x07\x7f",
    "only line breaks": "\n\r\u2029 \t",
    "emoji": "👩‍👩‍👧‍👦🎉☕️",
    "right-to-left marks": "\u202eAmy\u200f \u05e9\u05dc\u05d5\u05dd",
    "bidi isolates": "\u2066Amy\u2069",
    "1000 characters": "名" * 1000,
    "combining marks": "Z" + "\u0336" * 300 + "e\u0301" * 100,
    "variation selectors": "\ufe0f" * 500,
}
