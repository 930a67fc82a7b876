"""A running app with a store, its POS key and members who follow us on LINE and
Messenger, and a client that speaks the POS API."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from bot.sender import CollectingSender
from cards.models import Member, MemberIdentity
from cards.shortcodes import issue_card_token
from cards.tokens import issue_qr_token
from core.clock import utcnow
from core.db import Database
from core.settings import Settings
from loyalty.models import LedgerEntry
from loyalty.pos_keys import issue_pos_key, revoke_pos_key
from loyalty.stores import create_store
from tests.harness import Harness, running_app


@dataclass
class Shop:
    harness: Harness
    db: Database
    settings: Settings
    store_id: int
    key: str  # the store's POS key, plaintext
    key_id: int
    senders: dict[str, CollectingSender] = field(default_factory=dict)

    @property
    def client(self) -> httpx.AsyncClient:
        return self.harness.client

    def token(self, member_id: int, *, issued: datetime | None = None, ttl: int = 300) -> str:
        now = issued or utcnow()
        return issue_qr_token(self.settings.secret_key, member_id=member_id, now=now,
                              ttl_seconds=ttl).token

    async def short_code(self, member_id: int, *, issued: datetime | None = None,
                         ttl: int = 300) -> str:
        async with self.db.transaction() as session:
            issued_token = await issue_card_token(
                session, member_id=member_id, secret_key=self.settings.secret_key,
                now=issued or utcnow(), ttl_seconds=ttl)
        return issued_token.short_code

    async def add_member(self, *, name: str = "Amy", locale: str = "zh-TW",
                         line: str | None = None, messenger: str | None = None,
                         inbound_at: datetime | None = None) -> int:
        """A member with the given identities (following); Messenger's last inbound
        message at `inbound_at` (None: never wrote to us)."""
        async with self.db.transaction() as session:
            member = Member(join_source="line", display_name=name, locale=locale,
                            card_key=uuid.uuid4().hex,
                            referral_code=uuid.uuid4().hex[:8])
            session.add(member)
            await session.flush()
            if line:
                session.add(MemberIdentity(member_id=member.id, platform="line",
                                           platform_user_id=line, following=True))
            if messenger:
                session.add(MemberIdentity(member_id=member.id, platform="messenger",
                                           platform_user_id=messenger, following=True,
                                           last_inbound_at=inbound_at))
            return member.id

    async def add_store_key(self, name: str = "Xinyi") -> tuple[int, str]:
        """Another store and its POS key."""
        async with self.db.transaction() as session:
            store = await create_store(session, name=name)
            _, plaintext = await issue_pos_key(session, store_id=store.id)
            return store.id, plaintext

    async def revoke_key(self) -> None:
        async with self.db.transaction() as session:
            await revoke_pos_key(session, pos_key_id=self.key_id)

    def headers(self, *, key: str | None = None, idempotency_key: str | None = None,
                language: str | None = None, auth: bool = True) -> dict[str, str]:
        headers = {"Idempotency-Key": idempotency_key or uuid.uuid4().hex}
        if auth:
            headers["Authorization"] = f"Bearer {key or self.key}"
        if language:
            headers["Accept-Language"] = language
        return headers

    async def visit(self, body: dict[str, Any], **header_options: Any) -> httpx.Response:
        return await self.client.post("/api/v1/visits", json=body,
                                      headers=self.headers(**header_options))

    async def redeem(self, body: dict[str, Any], **header_options: Any) -> httpx.Response:
        return await self.client.post("/api/v1/redemptions", json=body,
                                      headers=self.headers(**header_options))

    async def void(self, entry_id: int, body: dict[str, Any] | None = None,
                   **header_options: Any) -> httpx.Response:
        return await self.client.post(f"/api/v1/ledger/{entry_id}/void", json=body,
                                      headers=self.headers(**header_options))

    async def member(self, member_id: int, **header_options: Any) -> httpx.Response:
        headers = self.headers(**header_options)
        headers.pop("Idempotency-Key")
        return await self.client.get(f"/api/v1/members/{member_id}", headers=headers)

    async def settle(self) -> None:
        """Wait for the member notifications queued so far."""
        await self.harness.app.state.notifier.drain()

    def pushes(self, platform: str = "line") -> list:
        return [sent for sent in self.senders[platform].sent if sent.kind == "push"]

    async def fill_card(self, member_id: int, visits: int = 3) -> dict[str, Any]:
        """`visits` stamps at this store with the cooldown out of the way; the last answer."""
        answer: dict[str, Any] = {}
        for _ in range(visits):
            response = await self.visit({"token": self.token(member_id)})
            assert response.status_code == 201, response.text
            answer = response.json()
            await self.forget_cooldown(member_id)
        return answer

    async def forget_cooldown(self, member_id: int) -> None:
        """Move the member's stamps back in time, as if the cooldown had passed."""
        async with self.db.transaction() as session:
            entries = await session.scalars(
                select(LedgerEntry).where(LedgerEntry.member_id == member_id))
            for entry in entries:
                entry.created_at -= timedelta(hours=5)


@asynccontextmanager
async def open_shop(db: Database, settings: Settings) -> AsyncIterator[Shop]:
    senders = {"line": CollectingSender("line"), "messenger": CollectingSender("messenger")}
    async with db.transaction() as session:
        store = await create_store(session, name="Daan")
        key, plaintext = await issue_pos_key(session, store_id=store.id)
        store_id, key_id = store.id, key.id
    async with running_app(settings, senders=senders) as harness:
        yield Shop(harness, db, settings, store_id, plaintext, key_id, senders)
        await harness.app.state.notifier.drain()
