"""Scan to stamp through the POS API: Punchline under uvicorn (one worker) on a throw-away
database, each visit a fresh QR token of a different member (so the cooldown never
refuses one). Closed loop by default: 50 counters posting `POST /api/v1/visits` at once,
each sending its next visit when the last is answered (this measures the most the
worker serves). With `--rate`, open loop: visits sent on a fixed schedule whatever the
answers, as counters in many shops would (this measures latency at that load). Prints
visits per second, p50/p99 latency and the server's CPU time per visit.

    .venv/bin/python -m bench.counter                 # PostgreSQL, then SQLite
    .venv/bin/python -m bench.counter --databases postgresql --visits 6000
    .venv/bin/python -m bench.counter --databases postgresql --rate 300
"""

import argparse
import asyncio
import os
import secrets
import statistics
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from rich.console import Console
from rich.table import Table
from sqlalchemy import insert

from bench.servers import database, punchline, sandbox
from cards.models import Member, MemberIdentity
from cards.tokens import issue_qr_token
from core.clock import utcnow
from core.db import Database
from loyalty.pos_keys import issue_pos_key
from loyalty.stores import create_store

console = Console(width=120)
WARMUP_VISITS = 200


@dataclass
class Figures:
    kind: str
    visits: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    server_cpu_seconds: float | None  # the uvicorn process's, user + system

    @property
    def per_second(self) -> float:
        return self.visits / self.seconds

    @property
    def server_cpu_ms_per_visit(self) -> float | None:
        if self.server_cpu_seconds is None:
            return None
        return self.server_cpu_seconds / self.visits * 1000

    def percentile(self, q: int) -> float:
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[q - 1]


async def seed(url: str, members: int) -> tuple[str, list[int]]:
    """A store, its POS key and `members` members following on LINE."""
    db = Database(url)
    try:
        async with db.transaction() as session:
            store = await create_store(session, name="Bench")
            _, key = await issue_pos_key(session, store_id=store.id)
            rows = [{"display_name": f"Member {n}", "locale": "zh-TW",
                     "card_key": secrets.token_hex(16), "referral_code": secrets.token_hex(6),
                     "marketing_opt_in": False, "joined_at": utcnow()} for n in range(members)]
            ids = list((await session.scalars(insert(Member).returning(Member.id), rows)).all())
            await session.execute(insert(MemberIdentity), [
                {"member_id": member_id, "platform": "line", "platform_user_id": f"U{member_id}",
                 "following": True, "followed_at": utcnow()} for member_id in ids])
        return key, ids
    finally:
        await db.dispose()


def server_cpu_seconds(base: str) -> float | None:
    """CPU time (user + system) of the uvicorn process serving `base`, from /proc
    (None where there is no /proc)."""
    port = base.rsplit(":", 1)[1]
    for folder in Path("/proc").glob("[0-9]*"):
        try:
            args = (folder / "cmdline").read_bytes().split(b"\0")
            if b"uvicorn" not in args or port.encode() not in args:
                continue
            fields = (folder / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return None


async def drive(base: str, key: str, secret_key: str, member_ids: list[int], *,
                concurrency: int, rate: float | None,
                deadline_seconds: float) -> tuple[int, int, list[float]]:
    """Stamps the members in turn until they or the time run out: `concurrency`
    counters in a closed loop, or one visit every 1/`rate` seconds in an open loop."""
    latencies: list[float] = []
    errors = 0
    headers = {"Authorization": f"Bearer {key}"}
    deadline = time.monotonic() + deadline_seconds
    # Open loop: no client-side queue, every visit on schedule gets its own connection.
    connector = aiohttp.TCPConnector(limit=concurrency if rate is None else 0)
    async with aiohttp.ClientSession(base, connector=connector, headers=headers) as client:

        async def visit(member_id: int) -> None:
            nonlocal errors
            token = issue_qr_token(secret_key, member_id=member_id, now=utcnow(),
                                   ttl_seconds=300).token
            started = time.perf_counter()
            async with client.post("/api/v1/visits", json={"token": token},
                                   headers={"Idempotency-Key": uuid.uuid4().hex}) as answer:
                await answer.read()
                ok = answer.status == 201
            latencies.append((time.perf_counter() - started) * 1000)
            errors += not ok

        if rate is None:
            queue = iter(member_ids)

            async def counter() -> None:
                for member_id in queue:
                    if time.monotonic() > deadline:
                        return
                    await visit(member_id)

            await asyncio.gather(*(counter() for _ in range(concurrency)))
        else:
            start, in_flight = time.perf_counter(), []
            for index, member_id in enumerate(member_ids):
                if time.monotonic() > deadline:
                    break
                delay = start + index / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                in_flight.append(asyncio.create_task(visit(member_id)))
            await asyncio.gather(*in_flight)
    return len(latencies), errors, latencies


def run(kind: str, *, visits: int, concurrency: int, rate: float | None,
        max_seconds: float) -> Figures:
    secret_key = secrets.token_urlsafe(48)
    with database(kind) as url, sandbox() as sandbox_base:
        key, member_ids = asyncio.run(seed(url, visits + WARMUP_VISITS))
        with punchline(url, sandbox_base, secret_key=secret_key) as base:
            warmup, measured = member_ids[:WARMUP_VISITS], member_ids[WARMUP_VISITS:]
            asyncio.run(drive(base, key, secret_key, warmup, concurrency=concurrency,
                              rate=None, deadline_seconds=max_seconds))
            cpu_before = server_cpu_seconds(base)
            started = time.perf_counter()
            done, errors, latencies = asyncio.run(drive(
                base, key, secret_key, measured, concurrency=concurrency, rate=rate,
                deadline_seconds=max_seconds))
            seconds = time.perf_counter() - started
            cpu_after = server_cpu_seconds(base)
    cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    return Figures(kind, done, errors, seconds, latencies, cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", nargs="+", default=["postgresql", "sqlite"],
                        choices=["postgresql", "sqlite"])
    parser.add_argument("--visits", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=50,
                        help="counters in the closed loop (and in the warm-up)")
    parser.add_argument("--rate", type=float, default=None,
                        help="open loop: visits offered per second")
    parser.add_argument("--max-seconds", type=float, default=60.0)
    args = parser.parse_args()
    load = (f"{args.concurrency} concurrent counters" if args.rate is None
            else f"{args.rate:.0f} visits/s offered")
    table = Table(title=f"POST /api/v1/visits, {load}, one uvicorn worker")
    for column in ("database", "visits", "errors", "visits/s", "p50 ms", "p99 ms",
                   "server CPU ms/visit"):
        table.add_column(column, justify="right")
    for kind in args.databases:
        console.print(f"[dim]{kind}: seeding {args.visits + WARMUP_VISITS} members…[/dim]")
        figures = run(kind, visits=args.visits, concurrency=args.concurrency, rate=args.rate,
                      max_seconds=args.max_seconds)
        cpu = figures.server_cpu_ms_per_visit
        table.add_row(kind, str(figures.visits), str(figures.errors),
                      f"{figures.per_second:.0f}", f"{figures.percentile(50):.1f}",
                      f"{figures.percentile(99):.1f}", "n/a" if cpu is None else f"{cpu:.2f}")
    console.print(table)


if __name__ == "__main__":
    main()
