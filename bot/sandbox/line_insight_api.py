"""The fake LINE insight API: messages delivered on a day and friend counts, from what the
sandbox recorded. LINE counts a day in UTC+9 and answers "unready" until it has; the
sandbox counts at once. Deliveries count one per recipient per API call (as the monthly
quota does), whatever the number of message objects in the call.
"""

from collections import Counter
from datetime import date as Day
from datetime import datetime, timedelta, timezone
from typing import Any

from fastapi import APIRouter, Query

from bot.sandbox.admission import admit
from bot.sandbox.errors import PlatformRoute, line_invalid_property
from bot.sandbox.line_common import LINE_REFUSALS as REFUSALS
from bot.sandbox.records import SendEndpoint
from bot.sandbox.state import SandboxState

LINE_TIME = timezone(timedelta(hours=9))
DAY_FORMAT = "%Y%m%d"
# GetNumberOfMessageDeliveriesResponse's field for each LINE send endpoint.
DELIVERY_FIELDS: dict[SendEndpoint, str] = {
    "reply": "apiReply",
    "push": "apiPush",
    "multicast": "apiMulticast",
    "narrowcast": "apiNarrowcast",
    "broadcast": "apiBroadcast",
}


def line_insight_router(state: SandboxState) -> APIRouter:
    """Mounted inside the LINE router, which checks the access token."""
    router = APIRouter(route_class=PlatformRoute)

    @router.get("/v2/bot/insight/message/delivery")
    async def message_deliveries(date: str) -> dict[str, Any]:
        """Messages the account sent on `date` (yyyyMMdd, UTC+9), by kind of send."""
        admit(state, "line_other", REFUSALS)
        day = _day(date)
        calls = {
            (message.endpoint, message.request_id, message.user_id)
            for message in state.all_messages(platform="line")
            if datetime.fromtimestamp(message.sent_at, LINE_TIME).date() == day
        }
        counts = Counter(endpoint for endpoint, _, _ in calls)
        return {"status": "ready"} | {
            field: counts[endpoint] for endpoint, field in DELIVERY_FIELDS.items()
        }

    @router.get("/v2/bot/insight/followers")
    async def followers(date: str | None = None) -> dict[str, Any]:
        """Friend counts; the sandbox keeps no history, so any date answers today's."""
        admit(state, "line_other", REFUSALS)
        if date is not None:
            _day(date)
        users = state.users("line")
        return {
            "status": "ready",
            "followers": sum(user.has_followed for user in users),
            "targetedReaches": sum(user.following for user in users),
            "blocks": sum(user.has_followed and not user.following for user in users),
        }

    @router.get("/v2/bot/insight/message/event/aggregation")
    async def unit_statistics(
        custom_aggregation_unit: str = Query(alias="customAggregationUnit"),
        start: str = Query(alias="from"),
        end: str = Query(alias="to"),
    ) -> dict[str, Any]:
        """A unit's opens and clicks. Nobody opens or clicks in the sandbox, so every count
        is null, as LINE answers below its privacy threshold."""
        admit(state, "line_other", REFUSALS)
        _day(start, "from")
        _day(end, "to")
        return {
            "overview": {
                "uniqueImpression": None,
                "uniqueClick": None,
                "uniqueMediaPlayed": None,
                "uniqueMediaPlayed100Percent": None,
            },
            "messages": [],
            "clicks": [],
        }

    return router


def _day(value: str, name: str = "date") -> Day:
    try:
        return datetime.strptime(value, DAY_FORMAT).date()
    except ValueError:
        raise line_invalid_property(name, "must be a date in yyyyMMdd format") from None
