"""Time the console's queries on a large synthetic history on PostgreSQL.

The history is bench/rfm's (Pareto visit counts over 540 days, imported, then scored);
then each read the console's pages make is timed, the best of `--repeat` runs: the home
figures (loyalty.insights), a page of the member list (sorted by join date, by name,
by last visit; a name search; an RFM cell), a member's page and the RFM page's reads.

    .venv/bin/python -m bench.console                           # 100,000 / 1,000,000
    .venv/bin/python -m bench.console --members 1000000 --visits 10000000
"""

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bench.rfm import generate
from bench.rfm import run as import_and_score
from bench.servers import database
from cards.models import Member
from core.clock import utcnow
from core.db import Database
from loyalty import insights
from loyalty.member_directory import MemberFilter, count_members, list_members
from loyalty.member_profile import member_profile
from loyalty.rfm_overview import rfm_grid, segment_counts, segment_sizes

console = Console(width=120)
TZ = "Asia/Taipei"
Read = Callable[[AsyncSession], Awaitable[Any]]


def reads(member_id: int) -> dict[str, Read]:
    now = utcnow()
    everyone = MemberFilter()
    return {
        "home: members over time (52 weeks)": lambda s: insights.members_over_time(
            s, now=now, timezone=TZ),
        "home: members over time (90 days)": lambda s: insights.members_over_time(
            s, now=now, timezone=TZ, unit="day"),
        "home: joins by source": insights.joins_by_source,
        "home: funnel, total and per store": lambda s: insights.funnel(s, now=now),
        "home: monthly cohorts (12)": lambda s: insights.cohorts(s, now=now, timezone=TZ),
        "home: active 30 / 90 days": lambda s: insights.active_members(
            s, now=now, timezone=TZ),
        "members: count": lambda s: count_members(s, everyone),
        "members: page 1 by join date": lambda s: list_members(
            s, everyone, sort="joined", descending=True, offset=0),
        "members: page 200 by join date": lambda s: list_members(
            s, everyone, sort="joined", descending=True, offset=199 * 50),
        "members: page 1 by last visit": lambda s: list_members(
            s, everyone, sort="last_visit", descending=True, offset=0),
        "members: search by key": lambda s: list_members(
            s, MemberFilter(query="C00012345"), sort="joined", descending=True, offset=0),
        "members: search by part of a name": lambda s: list_members(
            s, MemberFilter(query="0001234"), sort="joined", descending=True, offset=0),
        "members: an RFM cell (r 5, f 5)": lambda s: list_members(
            s, MemberFilter(r=5, f=5), sort="joined", descending=True, offset=0),
        "member's page": lambda s: member_profile(s, member_id=member_id, locale="en",
                                                  now=now),
        "rfm: the 5×5 grid": rfm_grid,
        "rfm: segment counts": segment_counts,
        "rfm: segment sizes over time": segment_sizes,
    }


async def time_reads(url: str, repeat: int) -> dict[str, float]:
    db = Database(url)
    try:
        async with db.transaction() as session:
            member_id = await session.scalar(select(func.min(Member.id))) or 1
        best: dict[str, float] = {}
        for name, read in reads(member_id).items():
            for _ in range(repeat):
                async with db.transaction() as session:
                    started = time.perf_counter()
                    await read(session)
                    elapsed = time.perf_counter() - started
                best[name] = min(best.get(name, elapsed), elapsed)
        return best
    finally:
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    today = datetime.now(UTC).date() - timedelta(days=1)
    with tempfile.TemporaryDirectory(prefix="punchline-console-") as folder:
        path = Path(folder) / "history.csv"
        rows = generate(path, members=options.members, visits=options.visits,
                        idle_share=0.1, seed=1, today=today)
        with database("postgresql") as url:
            asyncio.run(import_and_score(url, path, today))
            timings = asyncio.run(time_reads(url, options.repeat))
    table = Table(title=f"Console reads on PostgreSQL: {options.members:,} members, "
                        f"{rows:,} visits (best of {options.repeat})")
    table.add_column("read")
    table.add_column("ms", justify="right")
    for name, seconds in timings.items():
        table.add_row(name, f"{seconds * 1000:,.0f}")
    table.add_row("load average", f"{os.getloadavg()[0]:.2f} at the end")
    console.print(table)


if __name__ == "__main__":
    main()
