"""A fake LINE Messaging API: the paths Punchline calls, spelled as LINE spells them, with
LINE's documented limits and errors (docs/platforms.md).

Narrowcast reaches the followers in the audience its `recipient` names (an uploaded
audience, line_audience_api.py); any other `recipient` or `filter` reaches all simulated
followers. `limit.max` caps either.
"""

import asyncio
import hmac
import io
import re
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from PIL import Image, UnidentifiedImageError

from bot.sandbox import ids
from bot.sandbox.admission import admit, answer_late
from bot.sandbox.errors import PlatformError, PlatformRoute, line_error, line_invalid_property
from bot.sandbox.limits import EndpointKind
from bot.sandbox.line_audience_api import line_audience_router
from bot.sandbox.line_common import LINE_REFUSALS as REFUSALS
from bot.sandbox.line_common import json_body
from bot.sandbox.line_insight_api import line_insight_router
from bot.sandbox.records import SendEndpoint
from bot.sandbox.state import SandboxState

MAX_MESSAGES = 5
MAX_MULTICAST_RECIPIENTS = 500
MAX_TEXT_LENGTH = 5000
MAX_ALT_TEXT_LENGTH = 1500
MAX_QUICK_REPLY_ITEMS = 13
MAX_CAROUSEL_BUBBLES = 12
MAX_RICH_MENU_IMAGE_BYTES = 1024 * 1024
MESSAGE_TYPES = frozenset(
    {
        "text",
        "textV2",
        "sticker",
        "image",
        "video",
        "audio",
        "location",
        "imagemap",
        "template",
        "flex",
    }
)
RETRY_KEY_ENDPOINTS = frozenset({"push", "multicast", "narrowcast", "broadcast"})
UUID_PATTERN = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)


def _not_found() -> PlatformError:
    return line_error(404, "Not found")


def line_api_router(state: SandboxState, *, access_token: str) -> APIRouter:
    """The LINE Messaging API (and its data API: mount the same router under both bases)."""

    def authorize(request: Request) -> None:
        presented = request.headers.get("authorization", "")
        if not hmac.compare_digest(presented.encode(), f"Bearer {access_token}".encode()):
            raise line_error(
                401,
                "Authentication failed. Confirm that the access token in the authorization "
                "header is valid.",
            )

    router = APIRouter(route_class=PlatformRoute, dependencies=[Depends(authorize)])

    @router.post("/v2/bot/message/reply")
    async def reply(request: Request) -> Response:
        """Answer an event with its single-use reply token."""
        delay = admit(state, "reply", REFUSALS)
        body = await json_body(request)
        _check_retry_key(state, request, "reply")
        messages = _valid_messages(body)
        token = body.get("replyToken")
        user_id = state.consume_reply_token(token) if isinstance(token, str) else None
        if user_id is None:
            raise line_error(400, "Invalid reply token")
        sent = _deliver(state, "reply", [user_id], messages, None)
        await answer_late(delay)
        return _accepted(sent, {"sentMessages": sent["sentMessages"]})

    @router.post("/v2/bot/message/push")
    async def push(request: Request) -> Response:
        """Send to one user."""
        delay = admit(state, "push", REFUSALS)
        body = await json_body(request)
        retry_key = _check_retry_key(state, request, "push")
        messages = _valid_messages(body)
        to = body.get("to")
        if not isinstance(to, str) or not to:
            raise line_invalid_property("to", "must be specified")
        _consume_quota(state, 1)
        sent = _deliver(state, "push", [to], messages, retry_key)
        await answer_late(delay)
        return _accepted(sent, {"sentMessages": sent["sentMessages"]})

    @router.post("/v2/bot/message/multicast")
    async def multicast(request: Request) -> Response:
        """Send to up to 500 users in one call."""
        delay = admit(state, "multicast", REFUSALS)
        body = await json_body(request)
        retry_key = _check_retry_key(state, request, "multicast")
        messages = _valid_messages(body)
        to = body.get("to")
        if not isinstance(to, list) or not all(isinstance(user, str) and user for user in to):
            raise line_invalid_property("to", "must be specified")
        if not 1 <= len(to) <= MAX_MULTICAST_RECIPIENTS:
            raise line_invalid_property(
                "to", f"Size must be between 1 and {MAX_MULTICAST_RECIPIENTS}"
            )
        _consume_quota(state, len(to))
        sent = _deliver(state, "multicast", to, messages, retry_key)
        await answer_late(delay)
        return _accepted(sent, {})

    @router.post("/v2/bot/message/broadcast")
    async def broadcast(request: Request) -> Response:
        """Send to every friend of the account."""
        delay = admit(state, "broadcast", REFUSALS)
        body = await json_body(request)
        retry_key = _check_retry_key(state, request, "broadcast")
        messages = _valid_messages(body)
        followers = state.line_followers()
        _consume_quota(state, len(followers))
        sent = _deliver(state, "broadcast", followers, messages, retry_key)
        await answer_late(delay)
        return _accepted(sent, {})

    @router.post("/v2/bot/message/narrowcast")
    async def narrowcast(request: Request) -> Response:
        """Accept a narrowcast (202); follow it with the progress endpoint."""
        delay = admit(state, "narrowcast", REFUSALS)
        body = await json_body(request)
        retry_key = _check_retry_key(state, request, "narrowcast")
        messages = _valid_messages(body)
        recipients = _narrowcast_recipients(state, body)
        if len(recipients) >= state.config.narrowcast_min_recipients:
            _consume_quota(state, len(recipients))
        accepted = state.start_narrowcast(recipients, messages, retry_key)
        if retry_key is not None:
            state.remember_retry(retry_key, accepted.request_id, [])
        # Deliver on time even if nobody polls the progress.
        asyncio.get_running_loop().call_later(
            2 * state.config.narrowcast_phase_seconds + 0.01, state.settle_narrowcasts
        )
        await answer_late(delay)
        return JSONResponse({}, status_code=202, headers={"X-Line-Request-Id": accepted.request_id})

    @router.get("/v2/bot/message/progress/narrowcast")
    async def narrowcast_progress(requestId: str) -> dict[str, Any]:  # noqa: N803 (LINE's name)
        """Where a narrowcast is: waiting, sending, succeeded or failed."""
        admit(state, "line_other", REFUSALS)
        accepted = state.narrowcast(requestId)
        if accepted is None:
            raise _not_found()
        return accepted.progress_json()

    @router.get("/v2/bot/message/quota")
    async def quota() -> dict[str, Any]:
        """The monthly message limit."""
        admit(state, "line_other", REFUSALS)
        limit = state.config.monthly_quota
        return {"type": "none"} if limit is None else {"type": "limited", "value": limit}

    @router.get("/v2/bot/message/quota/consumption")
    async def quota_consumption() -> dict[str, Any]:
        """Messages counted against the quota this month."""
        admit(state, "line_other", REFUSALS)
        return {"totalUsage": state.quota_usage()}

    @router.get("/v2/bot/profile/{user_id}")
    async def profile(user_id: str) -> dict[str, Any]:
        """A friend's profile; 404 for anyone who is not (or no longer) a friend."""
        admit(state, "line_other", REFUSALS)
        user = state.user("line", user_id)
        if user is None or not user.following:
            raise _not_found()
        return {"userId": user.user_id, "displayName": user.display_name, "language": user.language}

    @router.post("/v2/bot/richmenu")
    async def create_rich_menu(request: Request) -> dict[str, str]:
        """Create a rich menu; its image is uploaded separately."""
        admit(state, "line_other", REFUSALS)
        body = await json_body(request)
        for required in ("size", "name", "chatBarText", "areas"):
            if required not in body:
                raise line_invalid_property(required, "must be specified")
        return {"richMenuId": state.create_rich_menu(body)}

    @router.post("/v2/bot/richmenu/{rich_menu_id}/content")
    async def upload_rich_menu_image(rich_menu_id: str, request: Request) -> dict[str, Any]:
        """Attach the menu's image (data API); an image cannot be replaced."""
        admit(state, "line_other", REFUSALS)
        menu = state.rich_menu(rich_menu_id)
        if menu is None:
            raise _not_found()
        if menu.image is not None:
            raise line_error(400, "An image has already been uploaded to the richmenu")
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        if content_type not in ("image/jpeg", "image/png"):
            raise line_error(415, "Unsupported Media Type")
        image = await request.body()
        _check_rich_menu_image(image)
        state.set_rich_menu_image(rich_menu_id, image, content_type)
        return {}

    @router.post("/v2/bot/user/all/richmenu/{rich_menu_id}")
    async def set_default_rich_menu(rich_menu_id: str) -> dict[str, Any]:
        """Show this rich menu to every user."""
        admit(state, "line_other", REFUSALS)
        menu = state.rich_menu(rich_menu_id)
        if menu is None:
            raise _not_found()
        if menu.image is None:
            raise line_error(400, "must upload richmenu image before applying it to user")
        state.set_default_rich_menu(rich_menu_id)
        return {}

    router.include_router(line_audience_router(state))
    router.include_router(line_insight_router(state))
    return router


def _check_retry_key(state: SandboxState, request: Request, endpoint: EndpointKind) -> str | None:
    """The request's X-Line-Retry-Key, refused where LINE refuses it; 409 when a request
    with this key was already accepted."""
    retry_key = request.headers.get("x-line-retry-key")
    if retry_key is None:
        return None
    if endpoint not in RETRY_KEY_ENDPOINTS:
        raise line_error(400, "X-Line-Retry-Key header is not supported on this endpoint")
    if not UUID_PATTERN.match(retry_key):
        raise line_error(400, "The value for the 'X-Line-Retry-Key' header is invalid")
    accepted = state.accepted_retry(retry_key)
    if accepted is not None:
        extra: dict[str, Any] = (
            {"sentMessages": accepted.sent_messages} if endpoint == "push" else {}
        )
        conflict = line_error(409, "The retry key is already accepted", **extra)
        conflict.headers["X-Line-Accepted-Request-Id"] = accepted.request_id
        raise conflict
    return retry_key


def _valid_messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_MESSAGES:
        raise line_invalid_property("messages", f"Size must be between 1 and {MAX_MESSAGES}")
    for index, message in enumerate(messages):
        _check_message(f"messages[{index}]", message)
    return messages


def _check_message(where: str, message: Any) -> None:
    if not isinstance(message, dict) or "type" not in message:
        raise line_invalid_property(f"{where}.type", "must be specified")
    kind = message["type"]
    if kind not in MESSAGE_TYPES:
        raise line_invalid_property(f"{where}.type", "must be one of the message types")
    if kind in ("text", "textV2"):
        text = message.get("text")
        if not isinstance(text, str) or not text:
            raise line_invalid_property(f"{where}.text", "must be specified")
        if len(text) > MAX_TEXT_LENGTH:
            raise line_invalid_property(
                f"{where}.text", f"Length must be between 0 and {MAX_TEXT_LENGTH}"
            )
    if kind in ("flex", "template"):
        alt_text = message.get("altText")
        if not isinstance(alt_text, str) or not alt_text:
            raise line_invalid_property(f"{where}.altText", "must be specified")
        if len(alt_text) > MAX_ALT_TEXT_LENGTH:
            raise line_invalid_property(
                f"{where}.altText", f"Length must be between 0 and {MAX_ALT_TEXT_LENGTH}"
            )
        contents = message.get("contents" if kind == "flex" else "template")
        if not isinstance(contents, dict) or "type" not in contents:
            field_name = "contents" if kind == "flex" else "template"
            raise line_invalid_property(f"{where}.{field_name}", "must be specified")
        bubbles = contents.get("contents") if contents["type"] == "carousel" else None
        if isinstance(bubbles, list) and len(bubbles) > MAX_CAROUSEL_BUBBLES:
            raise line_invalid_property(
                f"{where}.contents.contents", f"Size must be between 1 and {MAX_CAROUSEL_BUBBLES}"
            )
    items = (message.get("quickReply") or {}).get("items")
    if items is not None and (not isinstance(items, list) or len(items) > MAX_QUICK_REPLY_ITEMS):
        raise line_invalid_property(
            f"{where}.quickReply.items", f"Size must be between 0 and {MAX_QUICK_REPLY_ITEMS}"
        )


def _narrowcast_recipients(state: SandboxState, body: dict[str, Any]) -> list[str]:
    recipients = state.line_followers()
    recipient = body.get("recipient") or {}
    if recipient.get("type") == "audience":
        group_id = recipient.get("audienceGroupId")
        audience = state.audience(group_id) if isinstance(group_id, int) else None
        if audience is None:
            raise line_invalid_property("recipient.audienceGroupId", "audience not found")
        recipients = [user_id for user_id in recipients if user_id in audience.user_ids]
    limit = body.get("limit") or {}
    most = limit.get("max")
    if isinstance(most, int) and most > 0:
        recipients = recipients[:most]
    if limit.get("upToRemainingQuota") and state.config.monthly_quota is not None:
        remaining = max(0, state.config.monthly_quota - state.quota_usage())
        recipients = recipients[:remaining]
    return recipients


def _consume_quota(state: SandboxState, recipients: int) -> None:
    if not state.consume_quota(recipients):
        raise line_error(429, "You have reached your monthly limit.")


def _deliver(
    state: SandboxState,
    endpoint: SendEndpoint,
    user_ids: list[str],
    messages: list[dict[str, Any]],
    retry_key: str | None,
) -> dict[str, Any]:
    """Record an accepted send; what LINE answers about it."""
    request_id = ids.ulid()
    recorded = state.record_sent(
        platform="line",
        endpoint=endpoint,
        user_ids=user_ids,
        messages=messages,
        request_id=request_id,
        retry_key=retry_key,
    )
    sent_messages = [
        {"id": entry.message_id, "quoteToken": ids.line_quote_token()}
        for entry in recorded[: len(messages)]
    ]
    if retry_key is not None:
        state.remember_retry(retry_key, request_id, sent_messages)
    return {"request_id": request_id, "sentMessages": sent_messages}


def _accepted(sent: dict[str, Any], body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, headers={"X-Line-Request-Id": sent["request_id"]})


def _check_rich_menu_image(image: bytes) -> None:
    """LINE's rules: at most 1 MB, 800–2500 px wide, at least 250 px high, ratio ≥ 1.45."""
    if len(image) > MAX_RICH_MENU_IMAGE_BYTES:
        raise line_error(413, "Request Entity Too Large")
    try:
        with Image.open(io.BytesIO(image)) as picture:
            width, height = picture.size
    except (UnidentifiedImageError, OSError):
        raise line_error(400, "The image could not be read") from None
    if not (800 <= width <= 2500 and height >= 250 and width / height >= 1.45):
        raise line_error(400, "The image size does not meet the rich menu's requirements")
