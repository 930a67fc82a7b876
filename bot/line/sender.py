"""The LINE Messaging API sender over a shared httpx client.

Every call's failure is a `SendResult`, never an exception: network errors and timeouts
(status 0), 429 and 5xx are retryable; LINE's error body `{message, details}` is kept.
"""

import logging
from collections.abc import Sequence
from typing import Any

import httpx

from bot.line.render import render_messages
from bot.types import OutboundMessage, Platform, Profile, SendResult

MAX_MULTICAST_RECIPIENTS = 500
RETRY_KEY_HEADER = "X-Line-Retry-Key"
REQUEST_ID_HEADER = "X-Line-Request-Id"

logger = logging.getLogger(__name__)


class LineSender:
    """`bot.sender.Sender` for LINE, plus narrowcast. LINE's management calls (quota,
    narrowcast progress, audiences, rich menus) go through line-bot-sdk in
    bot/line/management.py; the sends stay here, faster (docs/benchmarks.md)."""

    platform: Platform = "line"

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_base: str,
        access_token: str,
        accent_color: str | None = None,
    ) -> None:
        self._client = client
        self._api_base = api_base.rstrip("/")
        self._headers = {"Authorization": f"Bearer {access_token}"}
        self._accent_color = accent_color

    async def reply(
        self, reply_token: str | None, user_id: str, messages: Sequence[OutboundMessage]
    ) -> SendResult:
        """Reply with the token; push instead when there is none or LINE says it is spent
        or expired (a slow answer, docs/platforms.md)."""
        rendered = render_messages(messages, accent_color=self._accent_color)
        if reply_token:
            result = await self._post(
                "/v2/bot/message/reply", {"replyToken": reply_token, "messages": rendered}
            )
            if not _is_invalid_reply_token(result):
                return result
        pushed = await self._push_rendered(user_id, rendered, retry_key=None)
        return SendResult(
            ok=pushed.ok,
            status=pushed.status,
            error=pushed.error,
            retryable=pushed.retryable,
            used_push=True,
            detail=pushed.detail,
        )

    async def push(
        self,
        user_id: str,
        messages: Sequence[OutboundMessage],
        *,
        tag: str | None = None,
        retry_key: str | None = None,
    ) -> SendResult:
        """Push to one user. `tag` is Messenger's and means nothing on LINE."""
        rendered = render_messages(messages, accent_color=self._accent_color)
        return await self._push_rendered(user_id, rendered, retry_key=retry_key)

    async def multicast(
        self, user_ids: Sequence[str], messages: Sequence[OutboundMessage], *, retry_key: str
    ) -> SendResult:
        """One call to at most 500 users; a 409 means this retry key was already accepted."""
        if len(user_ids) > MAX_MULTICAST_RECIPIENTS:
            raise ValueError(
                f"LINE multicast takes at most {MAX_MULTICAST_RECIPIENTS} user ids, "
                f"got {len(user_ids)}: batch them"
            )
        rendered = render_messages(messages, accent_color=self._accent_color)
        return await self._post(
            "/v2/bot/message/multicast",
            {"to": list(user_ids), "messages": rendered},
            retry_key=retry_key,
        )

    async def narrowcast(
        self,
        messages: Sequence[OutboundMessage],
        *,
        retry_key: str,
        recipient: dict[str, Any] | None = None,
        filter: dict[str, Any] | None = None,
        limit: dict[str, Any] | None = None,
    ) -> SendResult:
        """Start a narrowcast (LINE answers 202); `detail["request_id"]` is the id to
        follow with `LineManagement.narrowcast_progress`."""
        body: dict[str, Any] = {
            "messages": render_messages(messages, accent_color=self._accent_color)
        }
        for name, value in (("recipient", recipient), ("filter", filter), ("limit", limit)):
            if value is not None:
                body[name] = value
        return await self._post("/v2/bot/message/narrowcast", body, retry_key=retry_key)

    async def profile(self, user_id: str) -> Profile | None:
        """The user's display name and language; None when LINE does not know the user
        (blocked, never friended) or cannot say right now."""
        result = await self._get(f"/v2/bot/profile/{user_id}")
        if not result.ok:
            if result.status != 404:
                logger.warning("LINE profile lookup failed: %s %s", result.status, result.error)
            return None
        return Profile(
            display_name=_string(result.detail.get("displayName")),
            language=_string(result.detail.get("language")),
        )

    async def _push_rendered(
        self, user_id: str, rendered: list[dict[str, Any]], *, retry_key: str | None
    ) -> SendResult:
        return await self._post(
            "/v2/bot/message/push", {"to": user_id, "messages": rendered}, retry_key=retry_key
        )

    async def _post(
        self, path: str, body: dict[str, Any], *, retry_key: str | None = None
    ) -> SendResult:
        headers = self._headers
        if retry_key:
            headers = {**headers, RETRY_KEY_HEADER: retry_key}
        return await self._call("POST", path, json=body, headers=headers, retry_key=retry_key)

    async def _get(self, path: str) -> SendResult:
        return await self._call("GET", path, headers=self._headers)

    async def _call(
        self, method: str, path: str, *, retry_key: str | None = None, **request: Any
    ) -> SendResult:
        try:
            response = await self._client.request(method, self._api_base + path, **request)
        except (httpx.TransportError, TimeoutError) as exc:
            return SendResult(
                ok=False, status=0, error=f"{type(exc).__name__}: {exc}", retryable=True
            )
        return _result(response, retry_key=retry_key)


def _result(response: httpx.Response, *, retry_key: str | None) -> SendResult:
    body = _json_object(response)
    request_id = response.headers.get(REQUEST_ID_HEADER)
    if request_id:
        body["request_id"] = request_id
    status = response.status_code
    if response.is_success:
        return SendResult(ok=True, status=status, detail=body)
    if status == 409 and retry_key:
        # The same retry key was accepted before: the messages went out once already.
        return SendResult(ok=True, status=status, detail={**body, "already_accepted": True})
    return SendResult(
        ok=False,
        status=status,
        error=_string(body.get("message")) or f"HTTP {status}",
        retryable=status == 429 or status >= 500,
        detail=body,
    )


def _is_invalid_reply_token(result: SendResult) -> bool:
    # LINE answers 400 {"message": "Invalid reply token"} for a spent or expired token.
    return result.status == 400 and "reply token" in (result.error or "").lower()


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None
