"""RFM as the console draws it: the 5×5 recency-by-frequency grid (members per cell, and
the segment most of them are in), the members per segment now, and the segment sizes
after each recompute (loyalty_rfm_segment_size). Each is one grouped query over the
current scores or the recorded sizes, bounded in size."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty.models import RfmScore, RfmSegmentSize

SCORES = (1, 2, 3, 4, 5)
# The recomputes the chart of sizes goes back over (one a night: about half a year).
SIZE_HISTORY = 180


@dataclass(frozen=True, slots=True)
class Cell:
    r: int
    f: int
    members: int
    segment: str | None  # the segment most of the cell's members are in


async def rfm_grid(session: AsyncSession) -> list[Cell]:
    """25 cells, recency 5 (most recent) first, then frequency 1 to 5."""
    rows = await session.execute(
        select(RfmScore.r, RfmScore.f, RfmScore.segment, func.count())
        .group_by(RfmScore.r, RfmScore.f, RfmScore.segment))
    members: dict[tuple[int, int], int] = defaultdict(int)
    largest: dict[tuple[int, int], tuple[int, str]] = {}
    for r, f, segment, count in rows.all():
        members[(r, f)] += count
        # Ties go to the segment first in the alphabet, so the colour is stable.
        if (r, f) not in largest or (count, largest[(r, f)][1]) > (largest[(r, f)][0], segment):
            largest[(r, f)] = (count, segment)
    return [Cell(r, f, members[(r, f)], largest[(r, f)][1] if (r, f) in largest else None)
            for r in reversed(SCORES) for f in SCORES]


async def segment_counts(session: AsyncSession) -> dict[str, int]:
    """Members per segment now, the largest first."""
    rows = await session.execute(
        select(RfmScore.segment, func.count()).group_by(RfmScore.segment)
        .order_by(func.count().desc(), RfmScore.segment))
    return dict(rows.all())


@dataclass(frozen=True, slots=True)
class SizeHistory:
    days: list[date]  # the recomputes' as-of days, oldest first
    sizes: dict[str, list[int]]  # segment -> members on each of those days


async def segment_sizes(session: AsyncSession, *, limit: int = SIZE_HISTORY) -> SizeHistory:
    """Segment sizes after the last `limit` recomputes."""
    recent = (select(RfmSegmentSize.as_of).distinct()
              .order_by(RfmSegmentSize.as_of.desc()).limit(limit)).subquery("recent")
    rows = await session.execute(
        select(RfmSegmentSize.as_of, RfmSegmentSize.segment, RfmSegmentSize.members)
        .where(RfmSegmentSize.as_of.in_(select(recent.c.as_of)))
        .order_by(RfmSegmentSize.as_of))
    found = rows.all()
    days = sorted({as_of for as_of, _, _ in found})
    position = {day: index for index, day in enumerate(days)}
    sizes: dict[str, list[int]] = {}
    for as_of, segment, members in found:
        sizes.setdefault(segment, [0] * len(days))[position[as_of]] = members
    return SizeHistory(days, sizes)
