"""LINE's management APIs through line-bot-sdk: rich menus, the monthly quota, narrowcast
progress, audiences and insight.

None of these is on a hot path, so the SDK's speed does not matter here. The sends
(reply, push, multicast, narrowcast) stay hand-written in bot/line/sender.py, where the
SDK measured slower (docs/benchmarks.md).

Every failure (LINE refused, did not answer, or answered something the SDK cannot read)
is a LineApiError naming the step, never an SDK or aiohttp exception. Open it with
`async with LineManagement(...)` inside a running event loop: the SDK's clients build
their aiohttp sessions when created.
"""

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Any, Self

import aiohttp
from linebot.v3 import audience, insight, messaging

# Audience uploads by JSON take at most this many user ids a call (docs/platforms.md).
AUDIENCE_IDS_PER_CALL = 10_000
TIMEOUT = aiohttp.ClientTimeout(total=30)
# LINE's insight dates are yyyyMMdd, counted in UTC+9.
INSIGHT_DAY_FORMAT = "%Y%m%d"
_SDK_ERRORS = (
    messaging.OpenApiException,
    audience.OpenApiException,
    insight.OpenApiException,
)


class LineApiError(RuntimeError):
    """LINE refused a management call or could not be reached (`status` 0)."""

    def __init__(self, step: str, status: int, message: str) -> None:
        answer = f"LINE answered {status} {message}" if status else message
        super().__init__(f"could not {step}: {answer}")
        self.step = step
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Quota:
    """This month's message quota: `limit` None is an unlimited plan."""

    limit: int | None
    used: int

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.used)


@dataclass(frozen=True, slots=True)
class NarrowcastProgress:
    phase: str  # waiting | sending | succeeded | failed
    accepted_at: datetime
    completed_at: datetime | None = None
    target_count: int | None = None
    success_count: int | None = None
    failure_count: int | None = None
    # LINE's error code when failed: 4 is an audience under 50 recipients.
    error_code: int | None = None
    failed_description: str | None = None


@dataclass(frozen=True, slots=True)
class MessageDeliveries:
    """Messages the account sent on one day, by API; `ready` is False until LINE has
    counted the day (the counts are then None)."""

    ready: bool
    reply: int | None
    push: int | None
    multicast: int | None
    narrowcast: int | None
    broadcast: int | None


@dataclass(frozen=True, slots=True)
class Followers:
    """Friend counts as of a day: ever added, reachable by targeted messages, blocking."""

    ready: bool
    followers: int | None
    targeted_reaches: int | None
    blocks: int | None


@dataclass(frozen=True, slots=True)
class UnitStatistics:
    """Opens and clicks of the messages sent under one custom aggregation unit; None where
    LINE withholds a count (too few people)."""

    unique_impressions: int | None
    unique_clicks: int | None
    unique_media_played: int | None


class LineManagement:
    """The SDK's clients for one channel: the API and data API bases come from settings
    (the sandbox's in sandbox mode)."""

    def __init__(self, *, api_base: str, data_api_base: str, access_token: str) -> None:
        self._api_base = api_base.rstrip("/")
        self._data_api_base = data_api_base.rstrip("/")
        self._access_token = access_token
        self._stack = AsyncExitStack()

    async def __aenter__(self) -> Self:
        def config(package: Any, host: str) -> Any:
            return package.Configuration(host=host, access_token=self._access_token)

        async def client(package: Any, host: str) -> Any:
            return await self._stack.enter_async_context(
                package.AsyncApiClient(config(package, host))
            )

        self._messaging = messaging.AsyncMessagingApi(await client(messaging, self._api_base))
        self._blob = messaging.AsyncMessagingApiBlob(await client(messaging, self._data_api_base))
        self._audience = audience.AsyncManageAudience(await client(audience, self._api_base))
        self._insight = insight.AsyncInsight(await client(insight, self._api_base))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._stack.aclose()

    # Rich menus

    async def create_rich_menu(self, menu: dict[str, Any]) -> str:
        """Create a rich menu from LINE's rich menu object; its id."""
        request = messaging.RichMenuRequest.from_dict(menu)
        async with _step("create the rich menu"):
            created = await self._messaging.create_rich_menu(request, _request_timeout=TIMEOUT)
        return str(created.rich_menu_id)

    async def upload_rich_menu_image(
        self, rich_menu_id: str, image: bytes, *, content_type: str = "image/png"
    ) -> None:
        async with _step("upload the rich menu image"):
            await self._blob.set_rich_menu_image(
                rich_menu_id,
                image,
                _headers={"Content-Type": content_type},
                _request_timeout=TIMEOUT,
            )

    async def set_default_rich_menu(self, rich_menu_id: str) -> None:
        """Show this rich menu to every user."""
        async with _step("set the default rich menu"):
            await self._messaging.set_default_rich_menu(rich_menu_id, _request_timeout=TIMEOUT)

    # Sending: quota and narrowcast progress

    async def quota(self) -> Quota:
        async with _step("read the message quota"):
            limit = await self._messaging.get_message_quota(_request_timeout=TIMEOUT)
            used = await self._messaging.get_message_quota_consumption(_request_timeout=TIMEOUT)
        return Quota(limit=limit.value if limit.type == "limited" else None, used=used.total_usage)

    async def narrowcast_progress(self, request_id: str) -> NarrowcastProgress:
        """Where the narrowcast LINE accepted as `request_id` is."""
        async with _step("read the narrowcast progress"):
            answer = await self._messaging.get_narrowcast_progress(
                request_id, _request_timeout=TIMEOUT
            )
        return NarrowcastProgress(
            phase=answer.phase,
            accepted_at=answer.accepted_time,
            completed_at=answer.completed_time,
            target_count=answer.target_count,
            success_count=answer.success_count,
            failure_count=answer.failure_count,
            error_code=answer.error_code,
            failed_description=answer.failed_description,
        )

    # Audiences

    async def create_audience(self, description: str, user_ids: Sequence[str]) -> int:
        """An audience of these user ids, uploaded 10,000 a call; its audienceGroupId."""
        batches = [
            user_ids[start : start + AUDIENCE_IDS_PER_CALL]
            for start in range(0, len(user_ids), AUDIENCE_IDS_PER_CALL)
        ] or [[]]
        first = audience.CreateAudienceGroupRequest(
            description=description, audiences=_audience_ids(batches[0])
        )
        async with _step("create the audience"):
            created = await self._audience.create_audience_group(first, _request_timeout=TIMEOUT)
        audience_group_id = int(created.audience_group_id)
        for batch in batches[1:]:
            more = audience.AddAudienceToAudienceGroupRequest(
                audienceGroupId=audience_group_id, audiences=_audience_ids(batch)
            )
            async with _step(f"add user ids to audience {audience_group_id}"):
                await self._audience.add_audience_to_audience_group(more, _request_timeout=TIMEOUT)
        return audience_group_id

    async def delete_audience(self, audience_group_id: int) -> None:
        async with _step(f"delete audience {audience_group_id}"):
            await self._audience.delete_audience_group(
                audience_group_id, _request_timeout=TIMEOUT
            )

    # Insight

    async def message_deliveries(self, day: date) -> MessageDeliveries:
        """Messages sent on `day` (LINE's day, UTC+9), by API."""
        async with _step("read the message deliveries"):
            answer = await self._insight.get_number_of_message_deliveries(
                day.strftime(INSIGHT_DAY_FORMAT), _request_timeout=TIMEOUT
            )
        return MessageDeliveries(
            ready=answer.status == "ready",
            reply=answer.api_reply,
            push=answer.api_push,
            multicast=answer.api_multicast,
            narrowcast=answer.api_narrowcast,
            broadcast=answer.api_broadcast,
        )

    async def followers(self, day: date | None = None) -> Followers:
        """Friend counts as of `day` (LINE's latest when None)."""
        async with _step("read the follower counts"):
            answer = await self._insight.get_number_of_followers(
                day.strftime(INSIGHT_DAY_FORMAT) if day else None, _request_timeout=TIMEOUT
            )
        return Followers(
            ready=answer.status == "ready",
            followers=answer.followers,
            targeted_reaches=answer.targeted_reaches,
            blocks=answer.blocks,
        )

    async def unit_statistics(self, unit: str, start: date, end: date) -> UnitStatistics:
        """Opens and clicks of messages sent under the custom aggregation unit `unit`
        between `start` and `end` (at most 30 days apart)."""
        async with _step(f"read the statistics of unit {unit!r}"):
            answer = await self._insight.get_statistics_per_unit(
                unit,
                start.strftime(INSIGHT_DAY_FORMAT),
                end.strftime(INSIGHT_DAY_FORMAT),
                _request_timeout=TIMEOUT,
            )
        overview = answer.overview
        return UnitStatistics(
            unique_impressions=overview.unique_impression,
            unique_clicks=overview.unique_click,
            unique_media_played=overview.unique_media_played,
        )


def _audience_ids(user_ids: Sequence[str]) -> list[Any]:
    return [audience.Audience(id=user_id) for user_id in user_ids]


@asynccontextmanager
async def _step(step: str) -> AsyncIterator[None]:
    """Turn whatever the SDK raises during `step` into a LineApiError."""
    try:
        yield
    except _SDK_ERRORS as exc:
        status = getattr(exc, "status", None) or 0
        raise LineApiError(step, status, _line_message(exc)) from None
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise LineApiError(step, 0, f"{type(exc).__name__}: {exc}") from exc
    except ValueError as exc:
        # The SDK's pydantic models refused LINE's answer (or our arguments).
        raise LineApiError(step, 0, f"unreadable: {exc}") from exc


def _line_message(exc: Exception) -> str:
    """LINE's `message` and `details` from the error body, else the SDK's reason."""
    body = getattr(exc, "body", None)
    try:
        parsed = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        parsed = None
    if not isinstance(parsed, dict):
        return str(getattr(exc, "reason", None) or exc).strip()
    details = [
        f"{detail.get('property')}: {detail.get('message')}"
        for detail in parsed.get("details") or []
        if isinstance(detail, dict)
    ]
    message = str(parsed.get("message", ""))
    return f"{message} ({'; '.join(details)})" if details else message
