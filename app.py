"""The composition root: builds the FastAPI app, its database, senders and processor."""

import gc
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from bot.http import make_http_client
from bot.line.sender import LineSender
from bot.messenger.sender import MessengerSender
from bot.sandbox.app import create_sandbox_app
from bot.sandbox.simulator import simulator_router
from bot.sandbox.state import SandboxState
from bot.sender import Sender
from broadcast.notify import Notifier
from broadcast.scheduler import Scheduler
from core.db import Database
from core.errors import install_error_handler
from core.settings import SANDBOX_PATHS, Settings, SettingsError, get_settings
from handlers import card_page, pos_api, pos_tags, referral_page, webhooks
from handlers.console import home as console_home
from handlers.console import member as console_member
from handlers.console import members as console_members
from handlers.console import rfm as console_rfm
from handlers.console import rules as console_rules
from handlers.console import segments as console_segments
from handlers.console import tags as console_tags
from handlers.console.access import ConsoleDenied, console_denied
from handlers.conversation.dispatch import Conversation
from handlers.inbox import InboxWriter
from handlers.pos_limits import PosLimits
from handlers.processor import EventProcessor
from handlers.staff import api as staff_api
from handlers.staff import pages as staff_pages
from handlers.staff import report as staff_report
from handlers.staff.limits import StaffLimits

SANDBOX_HOST = "http://sandbox.internal"


def create_app(settings: Settings | None = None, *,
               senders: Mapping[str, Sender] | None = None) -> FastAPI:
    """The Punchline app. `senders` replaces the platform senders (tests)."""
    if settings is None:
        try:
            settings = get_settings()
        except SettingsError as error:  # started by uvicorn itself: no traceback, one line each
            raise SystemExit("\n".join(error.problems)) from None
    app = FastAPI(title="Punchline", version="0.1.0", lifespan=_lifespan,
                  description="Membership cards for LINE Official Accounts and Messenger pages.")
    app.state.settings = settings
    app.state.sender_override = senders
    # Guessing limits are counted per app, so apps in one process never share counts.
    app.state.staff_limits = StaffLimits()
    app.state.pos_limits = PosLimits()
    install_error_handler(app)
    app.include_router(webhooks.router)
    app.include_router(card_page.router)
    app.include_router(referral_page.router)
    app.include_router(staff_pages.router)
    app.include_router(staff_report.router)
    app.include_router(staff_api.router)
    for console_page in (console_home, console_members, console_member, console_rfm,
                         console_segments, console_tags, console_rules):
        app.include_router(console_page.router)
    app.add_exception_handler(ConsoleDenied, console_denied)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "handlers" / "static"),
              name="static")
    app.include_router(pos_api.router)
    app.include_router(pos_tags.router)
    if settings.sandbox:
        _mount_sandbox(app, settings)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/simulator/" if settings.sandbox else "/docs")

    return app


def _mount_sandbox(app: FastAPI, settings: Settings) -> None:
    """The fake LINE and Messenger platforms and the chat simulator, in this process."""
    state = SandboxState()
    sandbox_app = create_sandbox_app(
        state, line_access_token=settings.line_channel_access_token,
        messenger_page_access_token=settings.messenger_page_access_token,
    )
    app.state.sandbox = state
    app.state.sandbox_app = sandbox_app
    app.mount("/sandbox", sandbox_app)

    async def deliver(platform: str, body: bytes, headers: dict[str, str]) -> int:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://punchline") as client:
            response = await client.post(f"/webhooks/{platform}", content=body, headers=headers)
        return response.status_code

    app.include_router(simulator_router(
        state, deliver=deliver, line_channel_secret=settings.line_channel_secret,
        messenger_app_secret=settings.messenger_app_secret, brand_name=settings.brand_name,
    ), prefix="/simulator")


async def _build_senders(app: FastAPI, stack: AsyncExitStack) -> dict[str, Sender]:
    settings: Settings = app.state.settings
    network = await stack.enter_async_context(make_http_client())
    inprocess = None
    if settings.sandbox:
        inprocess = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app.state.sandbox_app),
                              base_url=SANDBOX_HOST))

    def client_and_base(field: str) -> tuple[httpx.AsyncClient, str]:
        # The mounted sandbox is called in-process, without a socket.
        if inprocess is not None and settings.uses_sandbox_for(field):
            return inprocess, f"{SANDBOX_HOST}/{SANDBOX_PATHS[field]}"
        return network, settings.api_base(field)

    line_client, line_base = client_and_base("line_api_base")
    messenger_client, messenger_base = client_and_base("messenger_api_base")
    return {
        "line": LineSender(line_client, api_base=line_base,
                           access_token=settings.line_channel_access_token,
                           accent_color=settings.brand_color),
        "messenger": MessengerSender(messenger_client, api_base=messenger_base,
                                     page_access_token=settings.messenger_page_access_token),
    }


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    async with AsyncExitStack() as stack:
        db = Database(settings.database_url)
        stack.push_async_callback(db.dispose)
        app.state.db = db
        senders = app.state.sender_override or await _build_senders(app, stack)
        app.state.notifier = Notifier(settings=settings, senders=senders, db=db)
        stack.push_async_callback(app.state.notifier.drain)
        conversation = Conversation(settings, senders, db)
        app.state.inbox = InboxWriter(db)
        processor = EventProcessor(db, conversation.handle, prepare=conversation.prepare,
                                   partitions=settings.webhook_workers)
        app.state.processor = processor
        await processor.start(webhooks.reparse)
        stack.push_async_callback(processor.stop)
        app.state.scheduler = None
        if settings.scheduler_enabled:
            app.state.scheduler = Scheduler(db, timezone=settings.timezone,
                                            check_seconds=settings.scheduler_check_seconds)
            await app.state.scheduler.start()
            stack.push_async_callback(app.state.scheduler.stop)
        # What exists after start-up lives as long as the process: keep it out of the
        # cyclic GC's full collections, which otherwise stall the loop for milliseconds.
        gc.collect()
        gc.freeze()
        yield
