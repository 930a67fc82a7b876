"""The Messenger Send API behind the `bot.sender.Sender` interface.

Each outbound message is one call to `/me/messages`. A refusal by the platform is a
`SendResult`, never an exception, so one person outside the 24-hour window cannot stop
a broadcast (botpress#4890).
"""

import dataclasses
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx

from bot.messenger.graph import GraphError, read_graph_error
from bot.messenger.render import render_message
from bot.types import OutboundMessage, Platform, Profile, SendResult

# `(#10) This message is sent outside of allowed window`.
_OUTSIDE_WINDOW = (10, 2018278)
# Graph throttling: application (4, also 4/2018354 for Marketing Messages frequency),
# user (17), page (32) and per-call (613) rate limits.
_RATE_LIMIT_CODES = frozenset({4, 17, 32, 613})
# `(#551) This person isn't available right now`: blocked us or left Messenger.
_RECIPIENT_UNAVAILABLE_CODE = 551
# Graph's "unknown error" and "service temporarily unavailable".
_TRANSIENT_CODES = frozenset({1, 2})


class MessengerSender:
    """Sends through the Graph API with one long-lived httpx client."""

    platform: Platform = "messenger"

    def __init__(self, client: httpx.AsyncClient, *, api_base: str, page_access_token: str) -> None:
        self._client = client
        self._api_base = api_base.rstrip("/")
        self._page_access_token = page_access_token

    async def reply(
        self, reply_token: str | None, user_id: str, messages: Sequence[OutboundMessage]
    ) -> SendResult:
        """A RESPONSE send; Messenger has no reply tokens, so `reply_token` is unused."""
        return await self._send_all(user_id, messages, messaging_type="RESPONSE", tag=None)

    async def push(
        self,
        user_id: str,
        messages: Sequence[OutboundMessage],
        *,
        tag: str | None = None,
        retry_key: str | None = None,
    ) -> SendResult:
        """An UPDATE send inside the 24-hour window, or a MESSAGE_TAG send with `tag`.
        Messenger has no retry keys: `retry_key` is unused."""
        messaging_type = "MESSAGE_TAG" if tag else "UPDATE"
        return await self._send_all(user_id, messages, messaging_type=messaging_type, tag=tag)

    async def multicast(
        self, user_ids: Sequence[str], messages: Sequence[OutboundMessage], *, retry_key: str
    ) -> SendResult:
        """Messenger has no multicast: one push per recipient, one after the other.

        Ok only when every recipient got every message; `detail["recipients"]` holds each
        recipient's outcome so a caller retries only the failed ones.
        """
        outcomes = {
            user_id: await self.push(user_id, messages) for user_id in dict.fromkeys(user_ids)
        }
        failures = [result for result in outcomes.values() if not result.ok]
        detail = {"recipients": {user_id: _outcome(result) for user_id, result in outcomes.items()}}
        if not failures:
            return SendResult(ok=True, status=200, detail=detail)
        first = failures[0]
        return SendResult(
            ok=False,
            status=first.status,
            error=first.error,
            retryable=all(result.retryable for result in failures),
            detail=detail,
        )

    async def profile(self, user_id: str) -> Profile | None:
        """The person's name and locale (e.g. "zh_TW"), or None when Graph will not say."""
        try:
            response = await self._client.get(
                f"{self._api_base}/{quote(user_id, safe='')}",
                params={
                    "fields": "first_name,last_name,locale",
                    "access_token": self._page_access_token,
                },
            )
        except httpx.TransportError:
            return None
        if not response.is_success:
            return None
        data = _json_object(response)
        names = [data.get(field) for field in ("first_name", "last_name")]
        display_name = " ".join(name for name in names if isinstance(name, str) and name)
        locale = data.get("locale")
        return Profile(
            display_name=display_name or None, language=locale if isinstance(locale, str) else None
        )

    async def _send_all(
        self,
        user_id: str,
        messages: Sequence[OutboundMessage],
        *,
        messaging_type: str,
        tag: str | None,
    ) -> SendResult:
        """Sends in order and stops at the first failure, so the person never sees a
        later message without the one before it."""
        message_ids: list[str | None] = []
        for message in messages:
            result = await self._send_one(user_id, render_message(message), messaging_type, tag)
            if not result.ok:
                return dataclasses.replace(
                    result, detail={**result.detail, "message_ids": message_ids}
                )
            message_ids.append(result.detail["message_id"])
        return SendResult(ok=True, status=200, detail={"message_ids": message_ids})

    async def _send_one(
        self, user_id: str, message: dict[str, Any], messaging_type: str, tag: str | None
    ) -> SendResult:
        body: dict[str, Any] = {
            "recipient": {"id": user_id},
            "messaging_type": messaging_type,
            "message": message,
        }
        if tag:
            body["tag"] = tag
        try:
            response = await self._client.post(
                f"{self._api_base}/me/messages",
                params={"access_token": self._page_access_token},
                json=body,
            )
        except httpx.TimeoutException:
            return SendResult(ok=False, status=0, error="timeout", retryable=True)
        except httpx.TransportError:
            return SendResult(ok=False, status=0, error="transport_error", retryable=True)
        if response.is_success:
            message_id = _json_object(response).get("message_id")
            return SendResult(
                ok=True, status=response.status_code, detail={"message_id": message_id}
            )
        return _refusal(response)


def _refusal(response: httpx.Response) -> SendResult:
    """A failed send as an outcome: what went wrong and whether trying again may help."""
    status = response.status_code
    # A proxy or load balancer may answer without a Graph error body.
    error = read_graph_error(response) or GraphError(message="")
    reason, retryable = _classify(error, status)
    return SendResult(
        ok=False, status=status, error=reason, retryable=retryable, detail=error.as_detail()
    )


def _classify(error: GraphError, status: int) -> tuple[str, bool]:
    if (error.code, error.subcode) == _OUTSIDE_WINDOW or (
        error.code == _OUTSIDE_WINDOW[0] and "allowed window" in error.message
    ):
        return "outside_window", False
    if error.code in _RATE_LIMIT_CODES or status == 429:
        return "rate_limited", True
    if error.code == _RECIPIENT_UNAVAILABLE_CODE:
        return "recipient_unavailable", False
    if error.transient or error.code in _TRANSIENT_CODES or status >= 500:
        return "server_error", True
    return error.message or f"http_{status}", False


def _outcome(result: SendResult) -> dict[str, Any]:
    return {
        "ok": result.ok,
        "status": result.status,
        "error": result.error,
        "retryable": result.retryable,
    }


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
