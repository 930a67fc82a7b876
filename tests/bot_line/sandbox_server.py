"""The sandbox platforms under a real uvicorn on a free loopback port: line-bot-sdk's
aiohttp client cannot use an in-process ASGI transport. Every request is recorded, and a
test may refuse chosen paths the way LINE refuses (status, LINE's error body)."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from bot.line.management import LineManagement
from bot.sandbox import SandboxState, create_sandbox_app
from tests.browser import free_port, serving

LINE_TOKEN = "test-line-access-token"


@dataclass
class SeenRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class LineSandbox:
    state: SandboxState
    base: str
    requests: list[SeenRequest] = field(default_factory=list)
    # path fragment -> (status, LINE's error message) answered instead of the sandbox's
    refuse: dict[str, tuple[int, str]] = field(default_factory=dict)

    @property
    def api_base(self) -> str:
        return f"{self.base}/line"

    @property
    def data_api_base(self) -> str:
        return f"{self.base}/line-data"

    def management(self, access_token: str = LINE_TOKEN) -> LineManagement:
        return LineManagement(
            api_base=self.api_base, data_api_base=self.data_api_base, access_token=access_token
        )


def _recording_app(sandbox: LineSandbox) -> FastAPI:
    app = create_sandbox_app(
        sandbox.state, line_access_token=LINE_TOKEN, messenger_page_access_token="unused"
    )

    @app.middleware("http")
    async def record(request: Request, call_next):
        body = await request.body()
        path = request.url.path
        sandbox.requests.append(SeenRequest(
            request.method, path, request.url.query, dict(request.headers), body
        ))
        for fragment, (status, message) in sandbox.refuse.items():
            if fragment in path:
                return JSONResponse({"message": message}, status_code=status)
        return await call_next(request)

    return app


@asynccontextmanager
async def line_sandbox(state: SandboxState) -> AsyncIterator[LineSandbox]:
    sandbox = LineSandbox(state, base="")
    port = free_port()
    async with serving(_recording_app(sandbox), port) as base:
        sandbox.base = base
        yield sandbox
