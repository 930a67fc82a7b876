"""Scan to stamp through the POS API: Punchline under uvicorn (one worker) on a throw-away
database, 50 counters posting `POST /api/v1/visits` at once, each visit a fresh QR token of
a different member (so the cooldown never refuses one). Prints p50/p99 latency and
visits per second.

    .venv/bin/python -m bench.counter                 # PostgreSQL, then SQLite
    .venv/bin/python -m bench.counter --databases postgresql --visits 6000
"""

import argparse
import asyncio
import secrets
import statistics
import time
import uuid
from dataclasses import dataclass

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

    @property
    def per_second(self) -> float:
        return self.visits / self.seconds

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


async def drive(base: str, key: str, secret_key: str, member_ids: list[int], *,
                concurrency: int, deadline_seconds: float) -> tuple[int, int, list[float]]:
    """`concurrency` counters stamping the members in turn until they or the time run out."""
    queue = iter(member_ids)
    latencies: list[float] = []
    errors = 0
    headers = {"Authorization": f"Bearer {key}"}
    deadline = time.monotonic() + deadline_seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(base, connector=connector, headers=headers) as client:

        async def counter() -> None:
            nonlocal errors
            for member_id in queue:
                if time.monotonic() > deadline:
                    return
                token = issue_qr_token(secret_key, member_id=member_id, now=utcnow(),
                                       ttl_seconds=300).token
                started = time.perf_counter()
                async with client.post("/api/v1/visits", json={"token": token},
                                       headers={"Idempotency-Key": uuid.uuid4().hex}) as answer:
                    await answer.read()
                    ok = answer.status == 201
                latencies.append((time.perf_counter() - started) * 1000)
                errors += not ok

        await asyncio.gather(*(counter() for _ in range(concurrency)))
    return len(latencies), errors, latencies


def run(kind: str, *, visits: int, concurrency: int, max_seconds: float) -> Figures:
    secret_key = secrets.token_urlsafe(48)
    with database(kind) as url, sandbox() as sandbox_base:
        key, member_ids = asyncio.run(seed(url, visits + WARMUP_VISITS))
        with punchline(url, sandbox_base, secret_key=secret_key) as base:
            warmup, measured = member_ids[:WARMUP_VISITS], member_ids[WARMUP_VISITS:]
            asyncio.run(drive(base, key, secret_key, warmup, concurrency=concurrency,
                              deadline_seconds=max_seconds))
            started = time.perf_counter()
            done, errors, latencies = asyncio.run(drive(
                base, key, secret_key, measured, concurrency=concurrency,
                deadline_seconds=max_seconds))
            seconds = time.perf_counter() - started
    return Figures(kind, done, errors, seconds, latencies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", nargs="+", default=["postgresql", "sqlite"],
                        choices=["postgresql", "sqlite"])
    parser.add_argument("--visits", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    args = parser.parse_args()
    table = Table(title=f"POST /api/v1/visits, {args.concurrency} concurrent counters, "
                        "one uvicorn worker")
    for column in ("database", "visits", "errors", "visits/s", "p50 ms", "p99 ms"):
        table.add_column(column, justify="right")
    for kind in args.databases:
        console.print(f"[dim]{kind}: seeding {args.visits + WARMUP_VISITS} members…[/dim]")
        figures = run(kind, visits=args.visits, concurrency=args.concurrency,
                      max_seconds=args.max_seconds)
        table.add_row(kind, str(figures.visits), str(figures.errors),
                      f"{figures.per_second:.0f}", f"{figures.percentile(50):.1f}",
                      f"{figures.percentile(99):.1f}")
    console.print(table)


if __name__ == "__main__":
    main()

