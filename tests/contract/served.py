"""The whole app served by uvicorn on a free loopback port, in a thread, on a fresh SQLite
database holding a store, its POS key, a manager and a member: what a client out there
would meet. Used by the schema contract test."""

import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn

from app import create_app
from bot.sender import CollectingSender
from cards.models import Member, MemberIdentity
from core.db import Database
from core.settings import Settings
from loyalty.pos_keys import issue_pos_key
from loyalty.staff import create_staff
from loyalty.stores import create_store
from tests import databases

PASSWORD = "correct horse battery"
_CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
_CSRF_CONFIG = re.compile(r'"csrfToken": ?"([^"]+)"')


@dataclass(frozen=True)
class Served:
    base_url: str
    settings: Settings
    pos_key: str
    staff_cookie: str  # the signed-in manager's Cookie header
    csrf: str

    def credentials(self) -> dict[str, str]:
        """Every credential the API takes: the POS key, the staff session and its CSRF."""
        return {"Authorization": f"Bearer {self.pos_key}", "Cookie": self.staff_cookie,
                "X-CSRF-Token": self.csrf}


async def _seed(url: str) -> str:
    """The rows a client with credentials works on; answers the POS key."""
    db = Database(url)
    try:
        async with db.transaction() as session:
            store = await create_store(session, name="Daan")
            _, key = await issue_pos_key(session, store_id=store.id)
            await create_staff(session, username="boss", password=PASSWORD, role="manager",
                               store_ids=[store.id])
            member = Member(join_source="line", display_name="Amy", locale="zh-TW",
                            card_key=uuid.uuid4().hex,
                            referral_code="AMY12345")
            session.add(member)
            await session.flush()
            session.add(MemberIdentity(member_id=member.id, platform="line",
                                       platform_user_id="U-amy", following=True))
        return key
    finally:
        await db.dispose()


def _sign_in(base_url: str) -> tuple[str, str]:
    with httpx.Client(base_url=base_url) as client:
        form = client.get("/staff/login").text
        csrf_field = _CSRF_FIELD.search(form)
        assert csrf_field, form
        login = client.post("/staff/login", data={"username": "boss", "password": PASSWORD,
                                                  "csrf": csrf_field.group(1)})
        assert login.status_code == 303, login.text
        page = client.get("/staff/")
        csrf = _CSRF_CONFIG.search(page.text)
        assert csrf, page.text
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    return cookie, csrf.group(1)


@contextmanager
def serve(sqlite_template: Path, folder: Path) -> Iterator[Served]:
    url = databases.fresh_sqlite_url(sqlite_template, folder)
    pos_key = databases.run_in_thread(_seed(url))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    settings = Settings(_env_file=None, environment="test", database_url=url,
                        public_base_url=base_url, sandbox=True, scheduler_enabled=False)
    senders = {"line": CollectingSender("line"), "messenger": CollectingSender("messenger")}
    server = uvicorn.Server(uvicorn.Config(create_app(settings, senders=senders),
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            assert thread.is_alive(), "the server did not start"
            time.sleep(0.05)
        cookie, csrf = _sign_in(base_url)
        yield Served(base_url, settings, pos_key, cookie, csrf)
    finally:
        server.should_exit = True
        thread.join()
        listener.close()
