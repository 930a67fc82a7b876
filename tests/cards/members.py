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
