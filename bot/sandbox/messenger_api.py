"""A fake Messenger Platform (Graph API): the Send API, the Messenger profile and user
profiles, with the standard 24-hour window and message tags (docs/platforms.md).

Choices where Graph itself varies: a bad or missing page token answers HTTP 401 with code
190; a rate limit answers HTTP 429 with code 613 (Graph often uses HTTP 400 for its
throttling codes 4 and 613, so a sender should classify by the code as well as the
status); an injected server error answers HTTP 500 with code 2 and `is_transient`.
"""

import hmac
import json
from typing import Any

from fastapi import APIRouter, Depends, Request

from bot.sandbox import ids
from bot.sandbox.admission import Refusals, admit, answer_late
from bot.sandbox.errors import PlatformError, PlatformRoute, graph_error
from bot.sandbox.state import SandboxState

MESSAGING_TYPES = frozenset({"RESPONSE", "UPDATE", "MESSAGE_TAG"})
# Tags allowed outside the window; HUMAN_AGENT only within 7 days of the person's message.
MESSAGE_TAGS = ("CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE", "HUMAN_AGENT")
PROFILE_FIELDS = frozenset(
    {"get_started", "persistent_menu", "greeting", "ice_breakers", "whitelisted_domains"}
)
USER_FIELDS = frozenset({"id", "name", "first_name", "last_name", "locale"})
MAX_TEXT_LENGTH = 2000
MAX_QUICK_REPLIES = 13
MAX_GENERIC_ELEMENTS = 10
MAX_TITLE_LENGTH = 80
MAX_BUTTONS = 3
MAX_BUTTON_TEMPLATE_TEXT = 640


def _invalid_param(message: str) -> PlatformError:
    return graph_error(400, 100, f"(#100) {message}")


def _server_error() -> PlatformError:
    error = graph_error(
        500, 2, "An unexpected error has occurred. Please retry your request later."
    )
    error.body["error"]["is_transient"] = True
    return error


REFUSALS = Refusals(
    too_many=lambda: graph_error(
        429, 613, "(#613) Calls to this api have exceeded the rate limit."
    ),
    server_error=_server_error,
)


def _outside_window() -> PlatformError:
    return graph_error(
        400, 10, "(#10) This message is sent outside of allowed window.", subcode=2018278
    )


def messenger_api_router(state: SandboxState, *, page_access_token: str) -> APIRouter:
    """The Graph endpoints a Messenger bot calls, relative to the versioned Graph base."""

    def authorize(request: Request) -> None:
        presented = request.query_params.get("access_token") or request.headers.get(
            "authorization", ""
        ).removeprefix("Bearer ")
        if not hmac.compare_digest(presented.encode(), page_access_token.encode()):
            raise graph_error(401, 190, "Invalid OAuth access token - Cannot parse access token")

    router = APIRouter(route_class=PlatformRoute, dependencies=[Depends(authorize)])

    @router.post("/me/messages")
    async def send_message(request: Request) -> dict[str, str]:
        """The Send API: one message to one person, within the window or with a tag."""
        delay = admit(state, "send", REFUSALS)
        body = await _json_body(request)
        recipient_id = (body.get("recipient") or {}).get("id")
        if not isinstance(recipient_id, str) or not recipient_id:
            raise _invalid_param("The parameter recipient is required")
        if "sender_action" in body and "message" not in body:
            _check_recipient(state, recipient_id)
            return {"recipient_id": recipient_id}
        messaging_type = body.get("messaging_type")
        if messaging_type not in MESSAGING_TYPES:
            raise _invalid_param(
                "Param messaging_type must be one of RESPONSE, UPDATE, MESSAGE_TAG"
            )
        message = _checked_message(body.get("message"))
        _check_recipient(state, recipient_id)
        tag = body.get("tag")
        _check_policy(state, recipient_id, messaging_type, tag)
        recorded = state.record_sent(
            platform="messenger",
            endpoint="send",
            user_ids=[recipient_id],
            messages=[message],
            request_id=ids.ulid(),
            messaging_type=messaging_type,
            tag=tag,
        )
        await answer_late(delay)
        return {"recipient_id": recipient_id, "message_id": recorded[0].message_id}

    @router.post("/me/messenger_profile")
    async def set_messenger_profile(request: Request) -> dict[str, str]:
        """Set the Get Started button, persistent menu, greeting, ..."""
        admit(state, "graph_other", REFUSALS)
        body = await _json_body(request)
        unknown = set(body) - PROFILE_FIELDS
        if not body or unknown:
            raise _invalid_param(f"Invalid keys {sorted(unknown)} were found")
        state.update_messenger_profile(body)
        return {"result": "success"}

    @router.get("/me/messenger_profile")
    async def get_messenger_profile(fields: str = "") -> dict[str, Any]:
        """The profile fields asked for."""
        admit(state, "graph_other", REFUSALS)
        wanted = {name for name in fields.split(",") if name}
        profile = state.messenger_profile()
        return {"data": [{k: v for k, v in profile.items() if k in wanted}] if wanted else []}

    @router.get("/{psid}")
    async def user_profile(psid: str, fields: str = "first_name,last_name") -> dict[str, Any]:
        """A person's public profile, by page-scoped id."""
        admit(state, "graph_other", REFUSALS)
        user = state.user("messenger", psid)
        if user is None:
            raise graph_error(
                400,
                100,
                f"Unsupported get request. Object with ID '{psid}' does not exist.",
                subcode=33,
                error_type="GraphMethodException",
            )
        first_name, _, last_name = user.display_name.partition(" ")
        known = {
            "id": user.user_id,
            "name": user.display_name,
            "first_name": first_name,
            "last_name": last_name,
            "locale": _graph_locale(user.language),
        }
        wanted = [name for name in fields.split(",") if name in USER_FIELDS]
        return {"id": user.user_id} | {name: known[name] for name in wanted}

    return router


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise _invalid_param("The request body must be a JSON object")
    return body


def _check_recipient(state: SandboxState, recipient_id: str) -> None:
    if state.user("messenger", recipient_id) is None:
        raise graph_error(400, 100, "(#100) No matching user found", subcode=2018001)


def _check_policy(state: SandboxState, recipient_id: str, messaging_type: str, tag: Any) -> None:
    """The standard 24-hour window, and what a message tag allows outside it."""
    since_inbound = state.seconds_since_inbound(recipient_id)
    if messaging_type == "MESSAGE_TAG":
        if tag not in MESSAGE_TAGS:
            raise _invalid_param(f"Param tag must be one of {{{', '.join(MESSAGE_TAGS)}}}")
        window = state.config.human_agent_window_seconds if tag == "HUMAN_AGENT" else None
    else:
        window = state.config.messenger_window_seconds
    if window is not None and (since_inbound is None or since_inbound > window):
        raise _outside_window()


def _checked_message(message: Any) -> dict[str, Any]:
    if not isinstance(message, dict) or not ("text" in message or "attachment" in message):
        raise _invalid_param("Param message must contain text or attachment")
    text = message.get("text")
    if text is not None and (not isinstance(text, str) or len(text) > MAX_TEXT_LENGTH):
        raise _invalid_param(
            f"Length of param message[text] must be less than or equal to {MAX_TEXT_LENGTH}"
        )
    quick_replies = message.get("quick_replies")
    if quick_replies is not None and len(quick_replies) > MAX_QUICK_REPLIES:
        raise _invalid_param(
            f"param message[quick_replies] must have at most {MAX_QUICK_REPLIES} items"
        )
    payload = (message.get("attachment") or {}).get("payload") or {}
    if payload.get("template_type") == "generic":
        _check_generic_template(payload.get("elements"))
    if payload.get("template_type") == "button":
        _check_buttons(payload.get("buttons"), "buttons")
        if len(payload.get("text") or "") > MAX_BUTTON_TEMPLATE_TEXT:
            raise _invalid_param(
                f"Param text must be at most {MAX_BUTTON_TEMPLATE_TEXT} characters"
            )
    return message


def _check_generic_template(elements: Any) -> None:
    if not isinstance(elements, list) or not 1 <= len(elements) <= MAX_GENERIC_ELEMENTS:
        raise _invalid_param(f"Param elements must have 1 to {MAX_GENERIC_ELEMENTS} items")
    for index, element in enumerate(elements):
        for field_name in ("title", "subtitle"):
            if len(element.get(field_name) or "") > MAX_TITLE_LENGTH:
                where = f"elements[{index}][{field_name}]"
                raise _invalid_param(f"Param {where} must be at most {MAX_TITLE_LENGTH} characters")
        if not element.get("title"):
            raise _invalid_param(f"Param elements[{index}][title] must be non-empty")
        if "buttons" in element:
            _check_buttons(element["buttons"], f"elements[{index}][buttons]")


def _check_buttons(buttons: Any, where: str) -> None:
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_BUTTONS:
        raise _invalid_param(f"Param {where} must have 1 to {MAX_BUTTONS} items")


def _graph_locale(language: str) -> str:
    """Graph spells locales with an underscore and a region: zh_TW, en_US."""
    if language.lower().startswith("en"):
        return "en_US"
    if language.lower().startswith("zh"):
        return "zh_TW"
    return language.replace("-", "_")
