"""Half a year of made-up history for `punchline demo`, so the console has something to
show: members who joined in every way, their past visits (as imported visits: they
grant no stamps), and RFM recomputed every other week so segment sizes have a history.

Seeded once (the demo members' keys start with DEMO_KEY_PREFIX), from a fixed random
seed, so every demo looks alike; a few hundred rows, quick to write."""

import random
import secrets
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from cards.models import JOIN_SOURCES, Member
from loyalty.models import ImportedVisit
from loyalty.rfm import recompute_scores

DEMO_KEY_PREFIX = "demo-"
DEMO_MEMBERS = 160
HISTORY_DAYS = 182
RECOMPUTE_EVERY_DAYS = 14
_NAMES = ("王小明", "林怡君", "陳志豪", "張雅婷", "李承恩", "Amy Chen", "Ben Wu", "黃詩涵",
          "吳建宏", "劉佳穎", "Cathy Lin", "蔡宗翰", "鄭雅筑", "David Ho", "許家瑜", "周子軒")
# How often each way of joining comes up: most members follow on LINE.
_SOURCE_WEIGHTS = (6, 2, 2, 2, 1)
_SEED = 7


async def seed_demo_history(session: AsyncSession, *, store_ids: list[int], timezone: str,
                            window_days: int, now: datetime) -> bool:
    """Adds the history unless it is there; False if it was."""
    if await session.scalar(select(exists().where(Member.member_key.startswith(DEMO_KEY_PREFIX)))):
        return False
    rng = random.Random(_SEED)
    start = now - timedelta(days=HISTORY_DAYS)
    members = [_member(rng, index, start, now, store_ids) for index in range(DEMO_MEMBERS)]
    session.add_all(members)
    await session.flush()
    rows = [row for member in members for row in _visits(rng, member, store_ids, now)]
    if rows:
        await session.execute(insert(ImportedVisit), rows)
    today = now.astimezone(ZoneInfo(timezone)).date()
    for as_of in _recompute_days(today):
        moment = datetime.combine(as_of, time(23), ZoneInfo(timezone)).astimezone(UTC)
        await recompute_scores(session, as_of=as_of, timezone=timezone,
                               window_days=window_days, now=min(moment, now))
    return True


def _member(rng: random.Random, index: int, start: datetime, now: datetime,
            store_ids: list[int]) -> Member:
    source = rng.choices(JOIN_SOURCES, weights=_SOURCE_WEIGHTS)[0]
    joined = start + (now - start) * (rng.random() ** 0.8)
    return Member(
        display_name=rng.choice(_NAMES), join_source=source, joined_at=joined,
        member_key=f"{DEMO_KEY_PREFIX}{index:04d}", card_key=secrets.token_hex(16),
        referral_code=secrets.token_hex(5), locale=rng.choice(("zh-TW", "zh-TW", "en")),
        marketing_opt_in=rng.random() < 0.6,
        join_store_id=rng.choice(store_ids) if source == "store_link" else None,
    )


def _visits(rng: random.Random, member: Member, store_ids: list[int],
            now: datetime) -> list[dict[str, object]]:
    """Most members come once or twice, a few are regulars; some never come."""
    count = min(int(rng.expovariate(0.45)), 14)
    home = rng.choice(store_ids)
    moments = sorted(member.joined_at + (now - member.joined_at) * rng.random()
                     for _ in range(count))
    return [{"member_id": member.id,
             "store_id": home if rng.random() < 0.8 else rng.choice(store_ids),
             "visited_at": moment, "amount": rng.randrange(60, 420) * 100}
            for moment in moments]


def _recompute_days(today: date) -> list[date]:
    """Every other week over the history, oldest first, ending today."""
    steps = HISTORY_DAYS // RECOMPUTE_EVERY_DAYS
    return [today - timedelta(days=RECOMPUTE_EVERY_DAYS * step) for step in range(steps, -1, -1)]
