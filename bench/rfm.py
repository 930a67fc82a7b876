"""Import a synthetic visit history and recompute RFM on PostgreSQL.

The history is written as the import's CSV (member_key,store,visited_at,amount), in a
temporary folder under bench/results (gitignored), removed at the end: `--members`
customers, of whom `--idle-share` never visit; the others get Pareto visit counts
(at least 1, capped at 2,000) whose shape is chosen so that they add up to about
`--visits`, so most have one or two visits and a few regulars have hundreds; visit
days are uniform over the last 540 days (so many members have no visit in the 365-day
window), spend lognormal around 150.00 over three stores (so a member's spend in the
window follows their visits: Pareto). Then, on a throw-away PostgreSQL database, it
times `loyalty.imports.import_visits` (rows/s) and `loyalty.rfm.recompute_scores`
(seconds) and reports, per phase, this process's CPU and peak memory (getrusage) and
the database server's: the CPU of this database's backends and their peak resident
memory (VmHWM from /proc, so only when the server runs on this machine; it includes
the shared buffers a backend touched). It checks on the scores that every dimension
uses all five scores and that members with equal figures have equal scores.

    .venv/bin/python -m bench.rfm                               # 100,000 / 1,000,000
    .venv/bin/python -m bench.rfm --members 1000000 --visits 10000000
"""

import argparse
import asyncio
import os
import random
import resource
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TypeVar

from rich.console import Console
from rich.table import Table
from sqlalchemy import text

from bench.servers import database
from core.clock import utcnow
from core.db import Database
from loyalty.imports import HEADER, ImportReport, import_visits
from loyalty.rfm import RecomputeReport, recompute_scores
from loyalty.stores import create_store

T = TypeVar("T")

console = Console(width=120)
STORES = ("Daan", "Xinyi", "Zhongshan")
HISTORY_DAYS = 540
MAX_VISITS = 2000  # the Pareto tail, capped: one person, a visit a day for years
OPEN_SECONDS = 14 * 3600  # visits between 08:00 and 22:00
# Spend is drawn from a pool of this many lognormal amounts: a draw per visit would
# triple the generation time for no difference the scores can see.
AMOUNT_POOL = 100_003
RESULTS = Path(__file__).resolve().parent / "results"  # gitignored


def visit_counts(randomly: random.Random, *, active: int, visits: int) -> list[int]:
    """Pareto visit counts of `active` members (the smallest value 1, rounded, at most
    MAX_VISITS), the shape alpha found by bisection so that they add up to about
    `visits`: 10 visits a member on average with most at one or two takes a tail as
    heavy as alpha near 0.9."""
    draws = [1.0 - randomly.random() for _ in range(active)]  # in (0, 1]

    def counts(alpha: float) -> list[int]:
        return [min(MAX_VISITS, round(draw ** (-1 / alpha))) for draw in draws]

    heavy, light = 0.3, 5.0  # a smaller alpha, a heavier tail, more visits
    for _ in range(30):
        alpha = (heavy + light) / 2
        heavy, light = (alpha, light) if sum(counts(alpha)) > visits else (heavy, alpha)
    return counts(light)


def generate(path: Path, *, members: int, visits: int, idle_share: float, seed: int,
             today: date) -> list[int]:
    """Writes the history; returns each visiting member's number of visits."""
    randomly = random.Random(seed)
    counts = visit_counts(randomly, active=int(members * (1 - idle_share)), visits=visits)
    days = [(today - timedelta(days=day)).isoformat() for day in range(HISTORY_DAYS)]
    amounts = [f"{randomly.lognormvariate(5.0, 0.6):.2f}" for _ in range(AMOUNT_POOL)]
    uniform = randomly.random
    with path.open("w", newline="", encoding="utf-8") as out:
        out.write(",".join(HEADER) + "\n")
        for number, count in enumerate(counts):
            key = f"C{number:08d}"
            lines = []
            for _ in range(count):
                second = 8 * 3600 + int(uniform() * OPEN_SECONDS)
                lines.append(f"{key},{STORES[int(uniform() * 3)]},"
                             f"{days[int(uniform() * HISTORY_DAYS)]}T{second // 3600:02d}:"
                             f"{second // 60 % 60:02d}:{second % 60:02d},"
                             f"{amounts[int(uniform() * AMOUNT_POOL)]}\n")
            out.write("".join(lines))
    return counts


def peak_memory_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


@dataclass(frozen=True, slots=True)
class Server:
    """This database's backends: CPU seconds so far and the largest peak resident set."""

    cpu_s: float
    peak_mib: float


async def server(db: Database) -> Server | None:
    """None when the backends' /proc entries cannot be read (a server elsewhere)."""
    async with db.transaction() as session:
        pids = (await session.scalars(text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"))).all()
    return backends(pids)


def backends(pids: Sequence[int]) -> Server | None:
    cpu, peak = 0.0, 0.0
    try:
        for pid in pids:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu += (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
            status = Path(f"/proc/{pid}/status").read_text()
            peak = max(peak, int(status.split("VmHWM:")[1].split()[0]) / 1024)
    except (OSError, IndexError):
        return None
    return Server(cpu, peak)


@dataclass(frozen=True, slots=True)
class Phase:
    seconds: float
    cpu_s: float  # this process
    peak_mib: float  # this process, so far
    server_cpu_s: float | None
    server_peak_mib: float | None

    def describe(self) -> str:
        backends = ("not measured" if self.server_cpu_s is None else
                    f"{self.server_cpu_s:.1f} s CPU, peak {self.server_peak_mib:,.0f} MiB")
        return (f"this process {self.cpu_s:.1f} s CPU, peak {self.peak_mib:,.0f} MiB; "
                f"server backends {backends}")


async def measured(db: Database, work: Callable[[], Awaitable[T]]) -> tuple[T, Phase]:
    before = await server(db)
    started, cpu = time.perf_counter(), time.process_time()
    result = await work()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    after = await server(db)
    if before is None or after is None:
        return result, Phase(seconds, cpu, peak_memory_mib(), None, None)
    return result, Phase(seconds, cpu, peak_memory_mib(), after.cpu_s - before.cpu_s,
                         after.peak_mib)


@dataclass(frozen=True, slots=True)
class Checks:
    """Per score: its values in use with their member counts, and how many figure values
    members with different scores share (0: identical members, identical scores)."""

    scores: dict[str, tuple[dict[int, int], int]]
    plain_frequency_cuts: list[float]  # what plain quintiles of the members would cut at
    segments: list[tuple[str, int]]


@dataclass(frozen=True, slots=True)
class Recompute:
    method: str
    report: RecomputeReport
    phase: Phase
    checks: Checks


@dataclass(frozen=True, slots=True)
class Run:
    report: ImportReport
    imported: Phase
    recomputes: list[Recompute]


# The second recompute scores frequency on these visit counts (RFM_FREQUENCY_THRESHOLDS),
# so one run compares the two methods, and times a recompute over existing scores.
THRESHOLDS = (2, 3, 4, 6)


async def run(url: str, path: Path, today: date) -> Run:
    db = Database(url)
    try:
        async with db.transaction() as session:
            for name in STORES:
                await create_store(session, name=name)

        async def load() -> ImportReport:
            with path.open(encoding="utf-8", newline="") as lines:
                return await import_visits(db, lines, minor_digits=2, now=utcnow(),
                                           locale="zh-TW")

        async def recompute(thresholds: tuple[int, ...] | None) -> RecomputeReport:
            async with db.transaction() as session:
                return await recompute_scores(session, as_of=today, timezone="Asia/Taipei",
                                              window_days=365, now=utcnow(),
                                              frequency_thresholds=thresholds)

        report, imported = await measured(db, load)
        recomputes = []
        for method, thresholds in (("quintiles over distinct values", None),
                                   (f"frequency thresholds {THRESHOLDS}", THRESHOLDS)):
            scores, phase = await measured(db, partial(recompute, thresholds))
            recomputes.append(Recompute(method, scores, phase, await checks(db)))
        return Run(report, imported, recomputes)
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


def spread(counts: list[int]) -> str:
    """Share of visiting members by number of visits: 1, 2, 3-5, 6+."""
    bands = Counter("1" if n == 1 else "2" if n == 2 else "3-5" if n <= 5 else "6+"
                    for n in counts)
    return ", ".join(f"{band}: {bands[band] / len(counts):.0%}"
                     for band in ("1", "2", "3-5", "6+"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--idle-share", type=float, default=0.1,
                        help="Members who never visit (they get no score).")
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    today = datetime.now(UTC).date() - timedelta(days=1)
    RESULTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rfm-", dir=RESULTS) as folder:
        path = Path(folder) / "history.csv"
        started = time.perf_counter()
        counts = generate(path, members=options.members, visits=options.visits,
                          idle_share=options.idle_share, seed=options.seed, today=today)
        rows = sum(counts)
        console.print(f"generated {rows:,} visits of {options.members:,} members "
                      f"({path.stat().st_size / 2**20:.0f} MiB) in "
                      f"{time.perf_counter() - started:.1f} s (peak "
                      f"{peak_memory_mib():,.0f} MiB); visits per visiting member: "
                      f"{spread(counts)}, most {max(counts):,}; load average "
                      f"{os.getloadavg()[0]:.2f}")
        with database("postgresql") as url:
            result = asyncio.run(run(url, path, today))
    report = result.report
    table = Table(title="RFM on PostgreSQL", show_header=False)
    table.add_row("import", f"{rows:,} rows in {result.imported.seconds:.1f} s: "
                            f"{rows / result.imported.seconds:,.0f} rows/s "
                            f"(loaded {report.loaded:,}, duplicates {report.duplicates:,}, "
                            f"rejected {report.rejected:,})")
    table.add_row("", result.imported.describe())
    for number, recomputed in enumerate(result.recomputes, start=1):
        table.add_row(f"recompute {number}", f"{recomputed.method}: "
                      f"{recomputed.report.scored:,} members scored in "
                      f"{recomputed.phase.seconds:.1f} s, "
                      f"{recomputed.report.segment_changes:,} segment changes")
        table.add_row("", recomputed.phase.describe())
        found = recomputed.checks
        for score in ("r", "f", "m"):
            used, split = found.scores[score]
            table.add_row(f"{score} scores", f"{used} (all five: "
                                             f"{sorted(used) == [1, 2, 3, 4, 5]}; equal values "
                                             f"split across scores: {split})")
        table.add_row("segments", ", ".join(f"{name} {count:,}"
                                            for name, count in found.segments))
    table.add_row("plain quintile cuts of frequency",
                  str(result.recomputes[0].checks.plain_frequency_cuts))
    table.add_row("load average", f"{os.getloadavg()[0]:.2f} at the end")
    console.print(table)


if __name__ == "__main__":
    main()
