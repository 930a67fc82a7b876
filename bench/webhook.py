"""bench/webhook: LINE events per second fully processed through POST /webhooks/line.

For each database, starts the standalone sandbox and Punchline (uvicorn, one worker) as
real processes, registers N simulated LINE users and pre-issues their reply tokens, then
sends N signed single-event webhooks at a fixed concurrency, first `follow` (join: a
profile lookup, the member, the card, three reply messages), then the text "card" (the
card with a fresh QR token and short code). An event counts as fully processed when the
sandbox has recorded its reply. Figures: events/s (first request sent to last reply
recorded) and the webhook's own p50/p99 response time.

Two ways to load it: closed loop (`--concurrency` senders, each sending its next event
as soon as the last is answered: the most the worker can do, and latency = senders /
throughput), and open loop (`--rate`: card events sent on a fixed schedule whatever the
answers, as platforms deliver them: the response time at that load).

    python -m bench.webhook --events 2000 --concurrency 32 --rate 400 --db postgresql
"""

import asyncio
import base64
import hashlib
import hmac
import json
import statistics
import time
import uuid
from dataclasses import dataclass
from functools import partial
from typing import Annotated, TypedDict

import aiohttp
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from bench import servers
from core.settings import Settings

console = Console(width=120)
LINE_SECRET = Settings.model_fields["line_channel_secret"].default


@dataclass
class PhaseResult:
    phase: str
    load: str
    database: str
    events: int
    seconds: float
    latencies_ms: list[float]

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def line_body(kind: str, user_id: str, reply_token: str) -> bytes:
    event = {
        "type": kind, "mode": "active", "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": user_id}, "replyToken": reply_token,
        "webhookEventId": uuid.uuid4().hex.upper()[:26],
        "deliveryContext": {"isRedelivery": False},
    }
    if kind == "message":
        event["message"] = {"type": "text", "id": uuid.uuid4().hex[:18],
                            "quoteToken": uuid.uuid4().hex, "text": "card"}
    return json.dumps({"destination": "Ubench", "events": [event]}).encode()


def signature(body: bytes) -> str:
    return base64.b64encode(hmac.new(LINE_SECRET.encode(), body, hashlib.sha256).digest()).decode()


async def prepare_users(http: aiohttp.ClientSession, sandbox: str, count: int) -> list[str]:
    users = []
    for index in range(count):
        async with http.post(f"{sandbox}/control/users", json={
            "platform": "line", "user_id": f"Ubench{index:06d}",
            "display_name": f"Bench {index}", "language": "zh-TW",
        }) as response:
            users.append((await response.json())["user_id"])
    return users


async def reply_tokens(http: aiohttp.ClientSession, sandbox: str, users: list[str]) -> list[str]:
    tokens = []
    for user_id in users:
        async with http.post(f"{sandbox}/control/reply-tokens", json={"user_id": user_id}) as r:
            tokens.append((await r.json())["replyToken"])
    return tokens


async def recorded_messages(http: aiohttp.ClientSession, sandbox: str, after_id: int) -> int:
    async with http.get(f"{sandbox}/control/messages", params={"after_id": after_id}) as r:
        messages = (await r.json())["messages"]
    return messages[-1]["id"] if messages else after_id


async def post_webhook(http: aiohttp.ClientSession, punchline: str, body: bytes,
                       latencies: list[float]) -> None:
    sent = time.perf_counter()
    async with http.post(f"{punchline}/webhooks/line", data=body, headers={
        "X-Line-Signature": signature(body), "Content-Type": "application/json",
    }) as response:
        await response.read()
        if response.status != 200:
            raise RuntimeError(f"webhook answered {response.status}")
    latencies.append((time.perf_counter() - sent) * 1000)


async def closed_loop(http: aiohttp.ClientSession, punchline: str, bodies: list[bytes],
                      latencies: list[float], concurrency: int) -> None:
    pending = list(reversed(bodies))

    async def sender() -> None:
        while pending:
            await post_webhook(http, punchline, pending.pop(), latencies)

    await asyncio.gather(*(sender() for _ in range(concurrency)))


async def open_loop(http: aiohttp.ClientSession, punchline: str, bodies: list[bytes],
                    latencies: list[float], rate: float) -> None:
    start, in_flight = time.perf_counter(), []
    for index, body in enumerate(bodies):
        delay = start + index / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        in_flight.append(asyncio.create_task(post_webhook(http, punchline, body, latencies)))
    await asyncio.gather(*in_flight)


async def run_phase(http: aiohttp.ClientSession, *, punchline: str, sandbox: str,
                    database: str, phase: str, kind: str, users: list[str],
                    messages_per_event: int, concurrency: int,
                    rate: float | None = None) -> PhaseResult:
    tokens = await reply_tokens(http, sandbox, users)
    bodies = [line_body(kind, user, token) for user, token in zip(users, tokens, strict=True)]
    start_cursor = await recorded_messages(http, sandbox, 0)
    expected = start_cursor + messages_per_event * len(bodies)
    latencies: list[float] = []
    started = time.perf_counter()
    if rate is None:
        await closed_loop(http, punchline, bodies, latencies, concurrency)
    else:
        await open_loop(http, punchline, bodies, latencies, rate)
    cursor, deadline = start_cursor, time.monotonic() + 120
    while cursor < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
        cursor = await recorded_messages(http, sandbox, cursor)
    if cursor < expected:
        raise RuntimeError(f"{phase}: only {cursor - start_cursor} of "
                           f"{expected - start_cursor} reply messages arrived")
    load = f"{concurrency} senders" if rate is None else f"{rate:.0f}/s offered"
    return PhaseResult(phase, load, database, len(bodies), time.perf_counter() - started,
                       latencies)


class PhaseKind(TypedDict):
    phase: str
    kind: str  # the LINE event type sent
    messages_per_event: int  # replies the phase waits for


FOLLOW: PhaseKind = {"phase": "follow", "kind": "follow", "messages_per_event": 3}
CARD: PhaseKind = {"phase": "card", "kind": "message", "messages_per_event": 1}


async def drive(database: str, *, punchline: str, sandbox: str, events: int,
                concurrency: int, rate: float | None) -> list[PhaseResult]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        users = await prepare_users(http, sandbox, events)
        phase = partial(run_phase, http, punchline=punchline, sandbox=sandbox,
                        database=database, users=users, concurrency=concurrency)
        results = [await phase(**FOLLOW), await phase(**CARD)]
        if rate is not None:
            results.append(await phase(**CARD, rate=rate))
        return results


def bench_database(database: str, *, events: int, concurrency: int,
                   rate: float | None) -> list[PhaseResult]:
    with servers.database(database) as url, servers.sandbox() as sandbox, \
            servers.punchline(url, sandbox) as punchline:
        return asyncio.run(drive(database, punchline=punchline, sandbox=sandbox, events=events,
                                 concurrency=concurrency, rate=rate))


def report(results: list[PhaseResult]) -> None:
    table = Table(title="bench/webhook: one worker")
    for column in ("database", "event", "load", "events", "events/s", "webhook p50 ms",
                   "webhook p99 ms", "mean ms"):
        table.add_column(column, justify="right")
    for r in results:
        table.add_row(r.database, r.phase, r.load, str(r.events), f"{r.events_per_second:.0f}",
                      f"{r.percentile(0.50):.1f}", f"{r.percentile(0.99):.1f}",
                      f"{statistics.fmean(r.latencies_ms):.1f}")
    console.print(table)


def main(
    events: Annotated[int, typer.Option(help="Events per phase (one per user).")] = 2000,
    concurrency: Annotated[int, typer.Option(help="Closed loop: concurrent senders.")] = 32,
    rate: Annotated[float, typer.Option(
        help="Open loop: card events offered per second (0 skips it).")] = 400,
    db: Annotated[list[str] | None, typer.Option(help="sqlite and/or postgresql.")] = None,
) -> None:
    results = []
    with Progress(console=console, transient=True) as progress:
        chosen = db or ["postgresql", "sqlite"]
        task = progress.add_task("benchmarking", total=len(chosen))
        for database in chosen:
            progress.update(task, description=f"{database}: {events} follows, {events} cards")
            results += bench_database(database, events=events, concurrency=concurrency,
                                      rate=rate or None)
            progress.advance(task)
    report(results)


if __name__ == "__main__":
    typer.run(main)
