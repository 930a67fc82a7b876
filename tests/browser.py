"""Real servers and real Chromium for end-to-end tests: Punchline under
uvicorn on a free loopback port, and Debian's chromium driven by Playwright."""

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI
from playwright.async_api import Browser, async_playwright

CHROMIUM = "/usr/bin/chromium"
QUIET_CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def serving(app: FastAPI, port: int, **options: Any) -> AsyncIterator[str]:
    """Serve `app` (lifespan included) on 127.0.0.1:`port` until the block ends;
    `options` go to uvicorn.Config."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on", **options))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def chromium(*extra_flags: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*QUIET_CHROMIUM_FLAGS, *extra_flags])
        try:
            yield browser
        finally:
            await browser.close()
