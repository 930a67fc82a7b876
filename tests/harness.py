"""Run the whole Punchline app in-process for end-to-end tests: lifespan started, an
httpx client on it, helpers to sign and post webhooks and to wait for the processor."""

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from app import create_app
from bot.sender import Sender
from core.settings import Settings
from handlers.inbox_models import WebhookEvent


def line_signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def messenger_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Harness:
    app: FastAPI
    client: httpx.AsyncClient
    settings: Settings

    async def post_line(self, body: bytes | dict[str, Any], *,
                        signature: str | None = None) -> httpx.Response:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        sig = line_signature(self.settings.line_channel_secret, raw) if signature is None \
            else signature
        return await self.client.post("/webhooks/line", content=raw,
                                      headers={"X-Line-Signature": sig,
                                               "Content-Type": "application/json"})

    async def post_messenger(self, body: bytes | dict[str, Any], *,
                             signature: str | None = None) -> httpx.Response:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        sig = messenger_signature(self.settings.messenger_app_secret, raw) if signature is None \
            else signature
        return await self.client.post("/webhooks/messenger", content=raw,
                                      headers={"X-Hub-Signature-256": sig,
                                               "Content-Type": "application/json"})

    async def drain(self) -> None:
        await self.app.state.processor.drain()

    async def stored_events(self) -> int:
        async with self.app.state.db.transaction() as session:
            return await session.scalar(select(func.count()).select_from(WebhookEvent)) or 0


@asynccontextmanager
async def running_app(settings: Settings, *,
                      senders: Mapping[str, Sender] | None = None) -> AsyncIterator[Harness]:
    app = create_app(settings, senders=senders)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Harness(app, client, settings)
