"""Import a synthetic visit history and recompute RFM on PostgreSQL.

The history is written as the import's CSV (member_key,store,visited_at,amount):
`--members` customers, of whom `--idle-share` never visit; the others get Pareto
(Zipf-like) visit counts scaled to about `--visits` in all, so most have one or two
visits and a few regulars have hundreds; visit days are uniform over the last 540
days (so some members have no visit in the 365-day window), spend lognormal around
150.00 over three stores. Then, on a throw-away PostgreSQL database, it times
`loyalty.imports.import_visits` (rows/s) and `loyalty.rfm.recompute_scores`
(seconds), prints this process's peak memory (getrusage maxrss: generation, import
and recompute all ran in it; the database server's memory is its own and not
counted), and checks on the scores that every dimension uses all five scores and
that members with equal figures have equal scores.

    .venv/bin/python -m bench.rfm                               # 100,000 / 1,000,000
    .venv/bin/python -m bench.rfm --members 1000000 --visits 10000000
"""

import argparse
import asyncio
import csv
import os
import random
import resource
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import text

from bench.servers import database
from core.clock import utcnow
from core.db import Database
from loyalty.imports import HEADER, ImportReport, import_visits
from loyalty.rfm import RecomputeReport, recompute_scores
from loyalty.stores import create_store

console = Console(width=120)
STORES = ("Daan", "Xinyi", "Zhongshan")
HISTORY_DAYS = 540
MAX_VISITS = 2000  # the Pareto tail, capped: one person, a visit a day for years


def generate(path: Path, *, members: int, visits: int, idle_share: float, seed: int,
             today: date) -> int:
    """Writes the history; returns the number of rows."""
    randomly = random.Random(seed)
    active = int(members * (1 - idle_share))
    weights = [randomly.paretovariate(1.1) for _ in range(active)]
    scale = visits / sum(weights)
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for number, weight in enumerate(weights):
            key = f"C{number:08d}"
            for _ in range(min(MAX_VISITS, max(1, round(weight * scale)))):
                day = today - timedelta(days=randomly.randrange(HISTORY_DAYS))
                at = f"{day.isoformat()}T{randomly.randrange(8, 22):02d}:" \
                     f"{randomly.randrange(60):02d}:{randomly.randrange(60):02d}"
                amount = round(randomly.lognormvariate(5.0, 0.6), 2)
                writer.writerow((key, randomly.choice(STORES), at, f"{amount:.2f}"))
                rows += 1
    return rows


def peak_memory_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


@dataclass(frozen=True, slots=True)
class Checks:
    """Per score: its values in use with their member counts, and how many figure values
    members with different scores share (0: identical members, identical scores)."""

    scores: dict[str, tuple[dict[int, int], int]]
    plain_frequency_cuts: list[float]  # what plain quintiles of the members would cut at
    segments: list[tuple[str, int]]


@dataclass(frozen=True, slots=True)
class Run:
    report: ImportReport
    import_s: float
    scores: RecomputeReport
    recompute_s: float
    checks: Checks


async def run(url: str, path: Path, today: date) -> Run:
    db = Database(url)
    try:
        async with db.transaction() as session:
            for name in STORES:
                await create_store(session, name=name)
        started = time.perf_counter()
        with path.open(encoding="utf-8", newline="") as lines:
            report = await import_visits(db, lines, minor_digits=2, now=utcnow(),
                                         locale="zh-TW")
        imported = time.perf_counter() - started
        started = time.perf_counter()
        async with db.transaction() as session:
            scores = await recompute_scores(session, as_of=today, timezone="Asia/Taipei",
                                            window_days=365, now=utcnow())
        recomputed = time.perf_counter() - started
        return Run(report, imported, scores, recomputed, await checks(db))
    finally:
        await db.dispose()


async def checks(db: Database) -> Checks:
    """Scores in use per dimension; values shared by members with different scores."""
    async with db.transaction() as session:
        found: dict[str, tuple[dict[int, int], int]] = {}
        for score, figure in (("r", "recency_days"), ("f", "frequency"), ("m", "monetary")):
            used = (await session.execute(text(
                f"SELECT {score}, count(*) FROM loyalty_rfm_score GROUP BY {score} "
                f"ORDER BY {score}"))).all()
            split = await session.scalar(text(
                f"SELECT count(*) FROM (SELECT {figure} FROM loyalty_rfm_score GROUP BY "
                f"{figure} HAVING count(DISTINCT {score}) > 1) AS split"))
            found[score] = ({value: count for value, count in used}, split or 0)
        cuts = (await session.execute(text(
            "SELECT percentile_cont(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP "
            "(ORDER BY frequency) FROM loyalty_rfm_score"))).scalar_one()
        segments = (await session.execute(text(
            "SELECT segment, count(*) FROM loyalty_rfm_score GROUP BY segment "
            "ORDER BY count(*) DESC"))).all()
        return Checks(found, list(cuts), list(segments))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--idle-share", type=float, default=0.1,
                        help="Members who never visit (they get no score).")
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    today = datetime.now(UTC).date() - timedelta(days=1)
    with tempfile.TemporaryDirectory(prefix="punchline-rfm-") as folder:
        path = Path(folder) / "history.csv"
        started = time.perf_counter()
        rows = generate(path, members=options.members, visits=options.visits,
                        idle_share=options.idle_share, seed=options.seed, today=today)
        console.print(f"generated {rows:,} visits of {options.members:,} members "
                      f"({path.stat().st_size / 2**20:.0f} MiB) in "
                      f"{time.perf_counter() - started:.1f} s; load average "
                      f"{os.getloadavg()[0]:.2f}")
        with database("postgresql") as url:
            result = asyncio.run(run(url, path, today))
    report, scores = result.report, result.scores
    table = Table(title="RFM on PostgreSQL", show_header=False)
    table.add_row("import", f"{rows:,} rows in {result.import_s:.1f} s: "
                            f"{rows / result.import_s:,.0f} rows/s "
                            f"(loaded {report.loaded:,}, duplicates {report.duplicates:,}, "
                            f"rejected {report.rejected:,})")
    table.add_row("recompute", f"{scores.scored:,} members scored in "
                               f"{result.recompute_s:.1f} s")
    table.add_row("peak memory", f"{peak_memory_mib():,.0f} MiB (this process; the "
                                 "database server's is separate)")
    checks_found = result.checks
    for score in ("r", "f", "m"):
        used, split = checks_found.scores[score]
        table.add_row(f"{score} scores", f"{used} (all five: {sorted(used) == [1, 2, 3, 4, 5]};"
                                         f" equal values split across scores: {split})")
    table.add_row("plain quintile cuts of frequency", str(checks_found.plain_frequency_cuts))
    table.add_row("segments", ", ".join(f"{name} {count:,}"
                                        for name, count in checks_found.segments))
    table.add_row("load average", f"{os.getloadavg()[0]:.2f} at the end")
    console.print(table)


if __name__ == "__main__":
    main()
