"""bench/line_sdk: LINE push and reply through line-bot-sdk's AsyncMessagingApi against the
project's LineSender (httpx over aiohttp's transport), side by side in one run.

Starts the standalone sandbox (uvicorn, loopback) as LINE with its push and reply rate
limits lifted, registers one friend and pre-issues every reply token (outside the timed
part), then for each operation runs each client in turn: a warm-up, then `--requests`
calls at `--concurrency` in a closed loop, stopped early after `--seconds`. Figures:
requests/s, p50/p99 latency, and the load generator's own CPU time per request (the
figure that least depends on what else the shared machine is doing), with the SDK's
ratio to LineSender.

    python -m bench.line_sdk --requests 3000 --concurrency 32
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

import httpx
import typer
from linebot.v3 import messaging
from rich.console import Console
from rich.table import Table

from bench import servers
from bot.http import make_http_client
from bot.line.sender import LineSender
from bot.types import Text
from core.settings import Settings

console = Console(width=150)
ACCESS_TOKEN = Settings.model_fields["line_channel_access_token"].default
TEXT = "Your card: 3 of 8 stamps"
WARM_UP = 200

Call = Callable[[int], Awaitable[bool]]


@dataclass
class Result:
    operation: str
    client: str
    requests: int
    seconds: float
    cpu_seconds: float
    latencies_ms: list[float]
    failures: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_us_per_request(self) -> float:
        return self.cpu_seconds / self.requests * 1e6

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def closed_loop(call: Call, count: int, concurrency: int, seconds: float) -> Result:
    latencies: list[float] = []
    failures = 0
    next_index = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal next_index, failures
        while next_index < count and time.perf_counter() < deadline:
            index, next_index = next_index, next_index + 1
            sent = time.perf_counter()
            if not await call(index):
                failures += 1
            latencies.append((time.perf_counter() - sent) * 1000)

    cpu, start = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed, cpu_used = time.perf_counter() - start, time.process_time() - cpu
    return Result("", "", len(latencies), elapsed, cpu_used, latencies, failures)


async def setup(sandbox: str, reply_tokens: int) -> tuple[str, list[str]]:
    """One friend to send to, and that many fresh reply tokens for them."""
    async with httpx.AsyncClient(base_url=sandbox) as control:
        for endpoint in ("push", "reply"):
            (await control.delete(f"/control/rate-limits/{endpoint}")).raise_for_status()
        user = await control.post(
            "/control/users", json={"platform": "line", "display_name": "Bench"}
        )
        user_id = user.json()["user_id"]
        gate = asyncio.Semaphore(16)

        async def token() -> str:
            async with gate:
                issued = await control.post("/control/reply-tokens", json={"user_id": user_id})
                return str(issued.json()["replyToken"])

        tokens = await asyncio.gather(*(token() for _ in range(reply_tokens)))
    return user_id, list(tokens)


def sdk_calls(api: messaging.AsyncMessagingApi, user_id: str, tokens: list[str]) -> dict[str, Call]:
    """The SDK as its examples use it: a request model per call, errors as exceptions."""

    async def push(index: int) -> bool:
        request = messaging.PushMessageRequest(
            to=user_id, messages=[messaging.TextMessage(text=TEXT)]
        )
        try:
            await api.push_message(request)
        except messaging.ApiException:
            return False
        return True

    async def reply(index: int) -> bool:
        request = messaging.ReplyMessageRequest(
            replyToken=tokens.pop(), messages=[messaging.TextMessage(text=TEXT)]
        )
        try:
            await api.reply_message(request)
        except messaging.ApiException:
            return False
        return True

    return {"push": push, "reply": reply}


def sender_calls(sender: LineSender, user_id: str, tokens: list[str]) -> dict[str, Call]:
    async def push(index: int) -> bool:
        return (await sender.push(user_id, [Text(TEXT)])).ok

    async def reply(index: int) -> bool:
        result = await sender.reply(tokens.pop(), user_id, [Text(TEXT)])
        return result.ok and not result.used_push

    return {"push": push, "reply": reply}


async def run(requests: int, concurrency: int, seconds: float) -> list[Result]:
    per_client = requests + WARM_UP
    results = []
    with servers.sandbox() as sandbox:
        line = f"{sandbox}/line"
        user_id, tokens = await setup(sandbox, 2 * per_client)
        configuration = messaging.Configuration(host=line, access_token=ACCESS_TOKEN)
        sdk_client = messaging.AsyncApiClient(configuration)
        async with sdk_client, make_http_client() as http:
            sender = LineSender(http, api_base=line, access_token=ACCESS_TOKEN)
            clients = {
                "line-bot-sdk": sdk_calls(messaging.AsyncMessagingApi(sdk_client), user_id, tokens),
                "LineSender": sender_calls(sender, user_id, tokens),
            }
            for operation in ("push", "reply"):
                for name, calls in clients.items():
                    call = calls[operation]
                    await closed_loop(call, WARM_UP, concurrency, seconds)
                    result = await closed_loop(call, requests, concurrency, seconds)
                    result.operation, result.client = operation, name
                    results.append(result)
    return results


def report(results: list[Result], concurrency: int) -> None:
    table = Table(title=f"LINE sends at concurrency {concurrency} (sandbox on loopback)")
    for column in ("operation", "client", "requests", "failed", "requests/s", "p50 ms",
                   "p99 ms", "client CPU µs/req", "SDK/ours rate", "SDK/ours CPU"):
        table.add_column(column, justify="left" if column in ("operation", "client") else "right")
    by_key = {(r.operation, r.client): r for r in results}
    for result in results:
        ratios = ["", ""]
        if result.client == "line-bot-sdk":
            own = by_key[(result.operation, "LineSender")]
            ratios = [f"{result.per_second / own.per_second:.2f}",
                      f"{result.cpu_us_per_request / own.cpu_us_per_request:.2f}"]
        table.add_row(result.operation, result.client, f"{result.requests:,}",
                      str(result.failures), f"{result.per_second:,.0f}",
                      f"{result.percentile(0.5):.1f}", f"{result.percentile(0.99):.1f}",
                      f"{result.cpu_us_per_request:,.0f}", *ratios)
    console.print(table)


def main(
    requests: Annotated[int, typer.Option(help="Timed calls per client and operation.")] = 3000,
    concurrency: Annotated[int, typer.Option(help="Calls in flight.")] = 32,
    seconds: Annotated[float, typer.Option(help="Stop a phase after this long.")] = 30.0,
) -> None:
    results = asyncio.run(run(requests, concurrency, seconds))
    report(results, concurrency)


if __name__ == "__main__":
    typer.run(main)
