"""The webhook receivers: check, store each event once, hand off, answer fast."""

import json
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from bot.line import parser as line_parser
from bot.line.signature import verify_signature as verify_line_signature
from bot.messenger import parser as messenger_parser
from bot.messenger.signature import verify_signature as verify_messenger_signature
from bot.messenger.verification import check_subscription
from bot.types import InboundEvent
from core.errors import AppError, Forbidden, Unauthorized, error_responses
from handlers.deps import InboxDep, ProcessorDep, SettingsDep
from handlers.inbox import InboxWriter
from handlers.processor import EventProcessor

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
# The platforms' events nest a handful of levels; a body far deeper is an attack on the
# parser (the standard library's recursion limit is not a contract).
MAX_JSON_DEPTH = 64
# A bad signature (401), a body that is not the platform's JSON (400), or too large (413).
RECEIVER_ERRORS = error_responses(400, 401, 413)


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"


class MalformedPayload(AppError):
    status_code = 400
    code = "malformed_payload"


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 past `limit` without reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def decode_json_object(body: bytes, list_field: str) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedPayload("body is not JSON") from exc
    except RecursionError as exc:
        raise MalformedPayload(f"body nested deeper than {MAX_JSON_DEPTH} levels") from exc
    if _deeper_than(data, MAX_JSON_DEPTH):
        raise MalformedPayload(f"body nested deeper than {MAX_JSON_DEPTH} levels")
    if _has_lone_surrogate(body, data):
        raise MalformedPayload("body has a \\u escape that is not Unicode text")
    if not isinstance(data, dict) or not isinstance(data.get(list_field, []), list):
        raise MalformedPayload(f"body is not an object with a list of {list_field}")
    return data


def _has_lone_surrogate(body: bytes, data: Any) -> bool:
    """Whether a string holds half a surrogate pair (JSON's `\\ud800` alone): not text, and
    no database driver can store it. Only `\\ud...` escapes make one, so the costly
    check runs only for bodies that have them (an emoji escaped as a pair is fine)."""
    if b"\\ud" not in body and b"\\uD" not in body:
        return False
    try:
        json.dumps(data, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return True
    return False


def _deeper_than(data: Any, limit: int) -> bool:
    """Whether arrays and objects nest past `limit` levels (walked without recursion, so
    the answer never depends on the interpreter's recursion limit)."""
    level: list[Any] = [data]
    for _ in range(limit):
        level = [child for value in level if isinstance(value, dict | list)
                 for child in (value.values() if isinstance(value, dict) else value)]
        if not level:
            return False
    return any(isinstance(value, dict | list) for value in level)


async def accept(inbox: InboxWriter, processor: EventProcessor, events: list[InboundEvent],
                 envelopes: list[dict[str, Any]]) -> None:
    """Store the events durably (shared commit with concurrent requests), then queue the
    new ones for processing."""
    processor.submit(await inbox.store(events, envelopes))


def accepted() -> Response:
    # A fixed body, sent as bytes: nothing to validate or serialise on the hot path.
    return Response(b'{"ok":true}', media_type="application/json")


def line_envelope(body: dict[str, Any], event: InboundEvent) -> dict[str, Any]:
    return {"destination": body.get("destination"), "events": [event.raw]}


def messenger_envelope(entry_meta: dict[str, Any], event: InboundEvent) -> dict[str, Any]:
    field = "standby" if event.standby else "messaging"
    return {"object": "page", "entry": [{**entry_meta, field: [event.raw]}]}


@router.post("/line", summary="LINE Messaging API webhook",
             responses=RECEIVER_ERRORS)
async def line_webhook(request: Request, settings: SettingsDep, inbox: InboxDep,
                       processor: ProcessorDep) -> Response:
    """Verifies X-Line-Signature over the raw bytes, stores each event once, answers 200
    before any event is processed."""
    body = await read_body(request, settings.webhook_max_body_bytes)
    signature = request.headers.get("x-line-signature")
    if not verify_line_signature(settings.line_channel_secret, body, signature):
        raise Unauthorized("invalid X-Line-Signature", code="invalid_signature")
    data = decode_json_object(body, "events")
    events = line_parser.parse_events(data)
    await accept(inbox, processor, events, [line_envelope(data, e) for e in events])
    return accepted()


# The challenge is text and a refusal JSON: the base Response class lets each document
# its own media type.
@router.get("/messenger", summary="Messenger webhook verification", response_class=Response,
            responses={200: {"description": "The challenge, echoed.",
                             "content": {"text/plain": {"schema": {"type": "string"}}}},
                       **error_responses(403)})
async def messenger_verify(request: Request, settings: SettingsDep) -> Response:
    challenge = check_subscription(request.query_params, settings.messenger_verify_token)
    if challenge is None:
        raise Forbidden("verify token mismatch", code="verify_token_mismatch")
    return PlainTextResponse(challenge)


@router.post("/messenger", summary="Messenger Platform webhook",
             responses=RECEIVER_ERRORS)
async def messenger_webhook(request: Request, settings: SettingsDep, inbox: InboxDep,
                            processor: ProcessorDep) -> Response:
    """Verifies X-Hub-Signature-256 over the raw bytes, stores each event once, answers 200
    before any event is processed."""
    body = await read_body(request, settings.webhook_max_body_bytes)
    if not verify_messenger_signature(settings.messenger_app_secret, body, request.headers):
        raise Unauthorized("invalid X-Hub-Signature-256", code="invalid_signature")
    data = decode_json_object(body, "entry")
    events, envelopes = [], []
    for entry in data.get("entry", []):
        if not isinstance(entry, dict):
            continue
        meta = {"id": entry.get("id"), "time": entry.get("time")}
        single_entry = {"object": data.get("object"), "entry": [entry]}
        for event in messenger_parser.parse_events(single_entry):
            events.append(event)
            envelopes.append(messenger_envelope(meta, event))
    await accept(inbox, processor, events, envelopes)
    return accepted()


def reparse(platform: str, envelope: dict[str, Any], event_key: str) -> InboundEvent | None:
    """Rebuild a stored event (after a restart) from the envelope kept with it."""
    parse = line_parser.parse_events if platform == "line" else messenger_parser.parse_events
    events = parse(envelope)
    return replace(events[0], event_key=event_key) if events else None
