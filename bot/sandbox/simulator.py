"""The chat simulator: a page where a person plays a customer on LINE or Messenger.

Each action on the page becomes the webhook the platform would send (built and signed in
bot.sandbox.webhooks) and is handed to Punchline through `deliver`; the bot's answers come
back through the fake APIs into the sandbox state, which the page polls and renders.
"""

from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field

from bot.sandbox import webhooks
from bot.sandbox.delivery import Deliver
from bot.sandbox.state import SandboxState
from bot.types import Platform
from core.bounds import Cursor
from core.errors import AppError, NotFound, error_responses
from core.i18n import catalog, normalize_locale

_HERE = Path(__file__).parent
_TEMPLATES = Jinja2Templates(directory=_HERE / "templates")
_STATIC_FILES = {
    "simulator.js": "text/javascript",
    "simulator.css": "text/css",
}
GET_STARTED_PAYLOAD = "GET_STARTED"
MAX_TEXT_LENGTH = 5000

class UnsupportedAction(AppError):
    status_code = 422
    code = "unsupported_action"


ActionKind = Literal["follow", "unfollow", "text", "postback", "get_started", "referral"]


class CustomerCreate(BaseModel):
    platform: Platform
    display_name: str = Field(min_length=1, max_length=100)
    language: str = "zh-TW"


class CustomerActionCreate(BaseModel):
    """What the customer did. `text`: what they typed (a quick reply's title; for a LINE
    postback without displayText, the tapped button's label); `payload`: postback data or
    quick-reply payload; `label`: what the chat shows as the person's message (LINE
    displayText, Messenger postback title); `ref`: an invite link's ref."""

    platform: Platform
    user_id: str
    action: ActionKind
    text: str | None = Field(default=None, max_length=MAX_TEXT_LENGTH)
    payload: str | None = Field(default=None, max_length=1000)
    label: str | None = Field(default=None, max_length=300)
    ref: str | None = Field(default=None, max_length=250)


def simulator_router(
    state: SandboxState,
    *,
    deliver: Deliver,
    line_channel_secret: str,
    messenger_app_secret: str,
    brand_name: str,
) -> APIRouter:
    """The page (GET /) and its JSON API (api/...), relative to where it is mounted."""
    router = APIRouter()
    compose = _WebhookComposer(state, line_channel_secret, messenger_app_secret)

    @router.get("/", response_class=HTMLResponse, name="simulator_page")
    async def page(request: Request, lang: str | None = None) -> Response:
        """The chat simulator."""
        locale = normalize_locale(lang or request.headers.get("accept-language"))
        texts = {k: v for k, v in catalog(locale).items() if k.startswith("simulator.")}
        config = {
            "base": request.url_for("simulator_page").path,
            "brand": brand_name,
            "locale": locale,
            "texts": texts,
        }
        return _TEMPLATES.TemplateResponse(
            request,
            "simulator.html",
            {"text": texts, "config": config, "brand_name": brand_name, "locale": locale},
        )

    @router.get("/static/{name}", name="simulator_static", responses=error_responses(404))
    async def static(name: str) -> FileResponse:
        """The page's script and style sheet."""
        if name not in _STATIC_FILES:
            raise NotFound(f"no file {name}")
        return FileResponse(_HERE / "static" / name, media_type=_STATIC_FILES[name])

    @router.get("/api/users")
    async def customers(platform: Platform) -> dict[str, Any]:
        """The simulated customers on one platform."""
        return {"users": [user.to_json() for user in state.users(platform)]}

    @router.post("/api/users", status_code=201, responses=error_responses(400))
    async def new_customer(customer: CustomerCreate) -> dict[str, Any]:
        """A new simulated customer with a generated id (not yet a friend)."""
        user = state.register_user(
            customer.platform, display_name=customer.display_name, language=customer.language
        )
        return user.to_json()

    @router.post("/api/events", responses=error_responses(400, 404))
    async def act(action: CustomerActionCreate) -> dict[str, Any]:
        """Turn the customer's action into a signed webhook and deliver it."""
        if state.user(action.platform, action.user_id) is None:
            raise NotFound("unknown simulated user")
        if action.platform == "line":
            webhook, entry = compose.line(action)
        else:
            webhook, entry = compose.messenger(action)
        status = await deliver(webhook.platform, webhook.body, webhook.headers)
        return {"status": status, "entry": entry}

    @router.get("/api/transcript")
    async def transcript(platform: Platform, user_id: str, after_id: Cursor = 0) -> dict[str, Any]:
        """The conversation after `after_id`, and the menus the bot has set up."""
        entries = state.transcript(platform, user_id, after_id)
        user = state.user(platform, user_id)
        return {
            "entries": [entry.to_json() for entry in entries],
            "user": user.to_json() if user else None,
            "rich_menu": _rich_menu_json(state),
            "persistent_menu": state.messenger_profile().get("persistent_menu"),
        }

    @router.get("/api/line/rich-menu-image", responses={
        200: {"description": "The image.", "content": {"image/png": {}, "image/jpeg": {}}},
        **error_responses(404)})
    async def rich_menu_image() -> Response:
        """The default rich menu's image, as uploaded."""
        menu = state.default_rich_menu()
        if menu is None or menu.image is None:
            raise NotFound("no default rich menu with an image")
        return Response(menu.image, media_type=menu.image_type)

    return router


def _rich_menu_json(state: SandboxState) -> dict[str, Any] | None:
    menu = state.default_rich_menu()
    if menu is None:
        return None
    return {"id": menu.rich_menu_id, "has_image": menu.image is not None, **menu.body}


class _WebhookComposer:
    """Builds the webhook for one customer action and records it in the transcript."""

    def __init__(self, state: SandboxState, line_secret: str, messenger_secret: str) -> None:
        self.state = state
        self.line_secret = line_secret
        self.messenger_secret = messenger_secret

    def line(self, action: CustomerActionCreate) -> tuple[webhooks.SignedWebhook, dict[str, Any]]:
        state, user_id, now = self.state, action.user_id, self.state.clock()
        if action.action == "follow":
            was_friend = state.set_following(user_id, True)
            event = webhooks.line_follow_event(
                user_id, now, state.issue_reply_token(user_id), is_unblocked=was_friend
            )
            recorded = state.record_customer_action("line", user_id, "follow")
        elif action.action == "unfollow":
            state.set_following(user_id, False)
            event = webhooks.line_unfollow_event(user_id, now)
            recorded = state.record_customer_action("line", user_id, "unfollow")
        elif action.action == "text" and action.text:
            event = webhooks.line_text_event(
                user_id, now, state.issue_reply_token(user_id), action.text
            )
            recorded = state.record_customer_action("line", user_id, "text", text=action.text)
        elif action.action == "postback" and action.payload is not None:
            event = webhooks.line_postback_event(
                user_id, now, state.issue_reply_token(user_id), action.payload
            )
            # LINE shows a postback's displayText as the person's message; without one the
            # tap leaves no message, and the transcript notes the tap instead.
            kind, shown = ("postback", action.label) if action.label else ("tap", action.text)
            recorded = state.record_customer_action(
                "line", user_id, kind, text=shown, payload=action.payload
            )
        else:
            raise UnsupportedAction(f"LINE has no {action.action} action with these fields")
        webhook = webhooks.line_webhook(state.config.line_bot_user_id, [event], self.line_secret)
        return webhook, recorded.to_json()

    def messenger(
        self, action: CustomerActionCreate
    ) -> tuple[webhooks.SignedWebhook, dict[str, Any]]:
        state, user_id, now = self.state, action.user_id, self.state.clock()
        page_id = state.config.messenger_page_id
        if action.action == "get_started":
            payload = (state.messenger_profile().get("get_started") or {}).get(
                "payload", GET_STARTED_PAYLOAD
            )
            title = action.label or "Get Started"
            item = webhooks.messenger_postback_event(
                page_id, user_id, now, title, payload, action.ref
            )
            recorded = state.record_customer_action(
                "messenger", user_id, "get_started", text=title, payload=action.ref
            )
        elif action.action == "referral" and action.ref:
            item = webhooks.messenger_referral_event(page_id, user_id, now, action.ref)
            recorded = state.record_customer_action(
                "messenger", user_id, "referral", payload=action.ref
            )
        elif action.action == "text" and action.text:
            item = webhooks.messenger_text_event(page_id, user_id, now, action.text, action.payload)
            recorded = state.record_customer_action(
                "messenger", user_id, "text", text=action.text, payload=action.payload
            )
        elif action.action == "postback" and action.payload is not None:
            title = action.label or action.payload
            item = webhooks.messenger_postback_event(page_id, user_id, now, title, action.payload)
            recorded = state.record_customer_action(
                "messenger", user_id, "postback", text=title, payload=action.payload
            )
        else:
            raise UnsupportedAction(
                f"Messenger has no {action.action} action with these fields")
        # Anything the person does opens the standard 24-hour window again.
        state.record_messenger_inbound(user_id, now)
        webhook = webhooks.messenger_webhook(page_id, now, [item], self.messenger_secret)
        return webhook, recorded.to_json()
