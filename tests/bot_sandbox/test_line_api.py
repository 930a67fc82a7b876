"""The fake LINE Messaging API honours LINE's documented rules (docs/platforms.md)."""

import io
import uuid

import httpx
import pytest
from PIL import Image

from bot.sandbox import RateLimit, SandboxState
from tests.bot_sandbox.conftest import LINE_AUTH, FakeClock, register, text

PUSH = "/line/v2/bot/message/push"
REPLY = "/line/v2/bot/message/reply"
MULTICAST = "/line/v2/bot/message/multicast"
NARROWCAST = "/line/v2/bot/message/narrowcast"
BROADCAST = "/line/v2/bot/message/broadcast"


async def push(client: httpx.AsyncClient, to: str = "Ualice", **headers: str) -> httpx.Response:
    return await client.post(
        PUSH, json={"to": to, "messages": [text()]}, headers=LINE_AUTH | headers
    )


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", "test-line-access-token"])
async def test_a_call_without_the_channel_token_is_refused_with_401(
    client: httpx.AsyncClient, state: SandboxState, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await client.post(PUSH, json={"to": "Ualice", "messages": [text()]}, headers=headers)
    assert response.status_code == 401
    assert "message" in response.json()
    assert state.all_messages() == []


async def test_push_records_the_message_as_sent_and_answers_sent_messages(
    client: httpx.AsyncClient, state: SandboxState
) -> None:
    response = await client.post(
        PUSH, json={"to": "Ualice", "messages": [text("hi"), text("there")]}, headers=LINE_AUTH
    )
    assert response.status_code == 200
    assert response.headers["X-Line-Request-Id"]
    sent = response.json()["sentMessages"]
    recorded = state.messages_for("line", "Ualice")
    assert [m.message for m in recorded] == [text("hi"), text("there")]
    assert [s["id"] for s in sent] == [m.message_id for m in recorded]
    assert all(s["quoteToken"] for s in sent)
    assert {(m.platform, m.endpoint, m.user_id) for m in recorded} == {("line", "push", "Ualice")}


@pytest.mark.parametrize("count", [0, 6])
async def test_a_call_carries_one_to_five_messages(
    client: httpx.AsyncClient, state: SandboxState, count: int
) -> None:
    response = await client.post(
        PUSH, json={"to": "Ualice", "messages": [text()] * count}, headers=LINE_AUTH
    )
    assert response.status_code == 400
    body = response.json()
    assert body["message"] == "The request body has 1 error(s)"
    assert body["details"] == [{"message": "Size must be between 1 and 5", "property": "messages"}]
    assert state.all_messages() == []


async def test_five_messages_in_one_call_are_accepted(
    client: httpx.AsyncClient, state: SandboxState
) -> None:
    response = await client.post(
        PUSH, json={"to": "Ualice", "messages": [text()] * 5}, headers=LINE_AUTH
    )
    assert response.status_code == 200
    assert len(state.messages_for("line", "Ualice")) == 5


@pytest.mark.parametrize(
    ("message", "property_name"),
    [
        ({"type": "text", "text": "x" * 5001}, "messages[0].text"),
        ({"text": "no type"}, "messages[0].type"),
        ({"type": "flex", "contents": {"type": "bubble"}}, "messages[0].altText"),
    ],
)
async def test_malformed_message_objects_are_refused(
    client: httpx.AsyncClient, message: dict[str, object], property_name: str
) -> None:
    response = await client.post(
        PUSH, json={"to": "Ualice", "messages": [message]}, headers=LINE_AUTH
    )
    assert response.status_code == 400
    assert response.json()["details"][0]["property"] == property_name


async def test_a_body_that_is_not_json_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(PUSH, content=b"{not json", headers=LINE_AUTH)
    assert response.status_code == 400
    assert "message" in response.json()


async def test_multicast_reaches_up_to_500_recipients(
    client: httpx.AsyncClient, state: SandboxState
) -> None:
    recipients = [f"U{i:032x}" for i in range(500)]
    response = await client.post(
        MULTICAST, json={"to": recipients, "messages": [text()]}, headers=LINE_AUTH
    )
    assert response.status_code == 200
    assert response.json() == {}
    assert len(state.all_messages()) == 500
    assert state.messages_for("line", recipients[499])[0].endpoint == "multicast"


async def test_multicast_to_501_recipients_is_refused(
    client: httpx.AsyncClient, state: SandboxState
) -> None:
    recipients = [f"U{i:032x}" for i in range(501)]
    response = await client.post(
        MULTICAST, json={"to": recipients, "messages": [text()]}, headers=LINE_AUTH
    )
    assert response.status_code == 400
    assert response.json()["details"] == [
        {"message": "Size must be between 1 and 500", "property": "to"}
    ]
    assert state.all_messages() == []


async def test_a_reply_reaches_the_user_its_token_was_issued_for(
    client: httpx.AsyncClient, state: SandboxState
) -> None:
    token = state.issue_reply_token("Ubob")
    response = await client.post(
        REPLY, json={"replyToken": token, "messages": [text("welcome")]}, headers=LINE_AUTH
    )
    assert response.status_code == 200
    assert response.json()["sentMessages"][0]["id"]
    [recorded] = state.messages_for("line", "Ubob")
    assert (recorded.endpoint, recorded.message) == ("reply", text("welcome"))


async def test_a_reply_token_is_single_use(client: httpx.AsyncClient, state: SandboxState) -> None:
    token = state.issue_reply_token("Ubob")
    body = {"replyToken": token, "messages": [text()]}
    assert (await client.post(REPLY, json=body, headers=LINE_AUTH)).status_code == 200
    second = await client.post(REPLY, json=body, headers=LINE_AUTH)
    assert second.status_code == 400
    assert second.json() == {"message": "Invalid reply token"}
    assert len(state.messages_for("line", "Ubob")) == 1


async def test_a_reply_token_expires_after_its_ttl(
    client: httpx.AsyncClient, state: SandboxState, clock: FakeClock
) -> None:
    token = state.issue_reply_token("Ubob")
    clock.advance(state.config.reply_token_ttl_seconds + 1)
    response = await client.post(
        REPLY, json={"replyToken": token, "messages": [text()]}, headers=LINE_AUTH
    )
    assert response.status_code == 400
    assert response.json() == {"message": "Invalid reply token"}


async def test_an_unknown_reply_token_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        REPLY, json={"replyToken": "made-up", "messages": [text()]}, headers=LINE_AUTH
    )
    assert response.status_code == 400
    assert response.json() == {"message": "Invalid reply token"}


async def test_a_reply_with_a_retry_key_is_refused(
    client: httpx.AsyncClient, state: SandboxState
) -> None:
    token = state.issue_reply_token("Ubob")
    response = await client.post(
        REPLY,
        json={"replyToken": token, "messages": [text()]},
        headers=LINE_AUTH | {"X-Line-Retry-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 400
    assert state.all_messages() == []


async def test_a_retry_key_must_be_a_uuid(client: httpx.AsyncClient) -> None:
    response = await push(client, **{"X-Line-Retry-Key": "not-a-uuid"})
    assert response.status_code == 400


async def test_a_retried_push_with_an_accepted_key_answers_409_and_is_not_delivered_again(
    client: httpx.AsyncClient, state: SandboxState
) -> None:
    key = str(uuid.uuid4())
    first = await push(client, **{"X-Line-Retry-Key": key})
    assert first.status_code == 200
    retry = await push(client, **{"X-Line-Retry-Key": key})
    assert retry.status_code == 409
    assert retry.json()["sentMessages"] == first.json()["sentMessages"]
    assert retry.headers["X-Line-Accepted-Request-Id"] == first.headers["X-Line-Request-Id"]
    assert len(state.messages_for("line", "Ualice")) == 1


async def test_a_retried_multicast_with_an_accepted_key_answers_409(
    client: httpx.AsyncClient, state: SandboxState
) -> None:
    key = str(uuid.uuid4())
    body = {"to": ["Ua", "Ub"], "messages": [text()]}
    headers = LINE_AUTH | {"X-Line-Retry-Key": key}
    assert (await client.post(MULTICAST, json=body, headers=headers)).status_code == 200
    assert (await client.post(MULTICAST, json=body, headers=headers)).status_code == 409
    assert len(state.all_messages()) == 2


async def test_a_refused_request_leaves_its_retry_key_unspent(
    client: httpx.AsyncClient, state: SandboxState
) -> None:
    headers = LINE_AUTH | {"X-Line-Retry-Key": str(uuid.uuid4())}
    refused = await client.post(PUSH, json={"to": "Ualice", "messages": []}, headers=headers)
    assert refused.status_code == 400
    accepted = await client.post(PUSH, json={"to": "Ualice", "messages": [text()]}, headers=headers)
    assert accepted.status_code == 200


async def test_an_accepted_retry_key_is_forgotten_after_a_day(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    key = str(uuid.uuid4())
    assert (await push(client, **{"X-Line-Retry-Key": key})).status_code == 200
    clock.advance(24 * 3600 + 1)
    assert (await push(client, **{"X-Line-Retry-Key": key})).status_code == 200


async def test_over_the_rate_limit_answers_429_without_retry_after(
    client: httpx.AsyncClient, state: SandboxState, clock: FakeClock
) -> None:
    state.set_rate_limit("push", RateLimit(requests=2, per_seconds=60))
    assert [(await push(client)).status_code for _ in range(2)] == [200, 200]
    limited = await push(client)
    assert limited.status_code == 429
    assert limited.json() == {"message": "Too Many Requests"}
    assert "retry-after" not in limited.headers
    clock.advance(30)
    assert (await push(client)).status_code == 200


async def test_default_rate_limits_follow_the_platform_table(state: SandboxState) -> None:
    limits = state.config.rate_limits
    assert limits["multicast"] == RateLimit(200, 1)
    assert limits["push"] == limits["reply"] == RateLimit(2000, 1)
    assert limits["narrowcast"] == limits["broadcast"] == RateLimit(60, 3600)


async def test_an_exhausted_monthly_quota_answers_429_but_replies_still_go(
    client: httpx.AsyncClient, state: SandboxState
) -> None:
    state.config.monthly_quota = 3
    quota = await client.get("/line/v2/bot/message/quota", headers=LINE_AUTH)
    assert quota.json() == {"type": "limited", "value": 3}
    multicast = await client.post(
        MULTICAST, json={"to": ["Ua", "Ub"], "messages": [text()]}, headers=LINE_AUTH
    )
    assert multicast.status_code == 200
    assert (await push(client)).status_code == 200
    exhausted = await push(client)
    assert exhausted.status_code == 429
    assert exhausted.json() == {"message": "You have reached your monthly limit."}
    usage = await client.get("/line/v2/bot/message/quota/consumption", headers=LINE_AUTH)
    assert usage.json() == {"totalUsage": 3}
    token = state.issue_reply_token("Ua")
    reply = await client.post(
        REPLY, json={"replyToken": token, "messages": [text()]}, headers=LINE_AUTH
    )
    assert reply.status_code == 200


async def test_an_unlimited_plan_reports_no_quota(client: httpx.AsyncClient) -> None:
    quota = await client.get("/line/v2/bot/message/quota", headers=LINE_AUTH)
    assert quota.json() == {"type": "none"}


async def _followers(client: httpx.AsyncClient, count: int) -> list[str]:
    return [await register(client, "line", f"Member {i}") for i in range(count)]


async def _progress(client: httpx.AsyncClient, request_id: str) -> dict[str, object]:
    response = await client.get(
        "/line/v2/bot/message/progress/narrowcast",
        params={"requestId": request_id},
        headers=LINE_AUTH,
    )
    assert response.status_code == 200
    return response.json()


async def test_narrowcast_is_accepted_then_moves_from_waiting_to_sending_to_succeeded(
    client: httpx.AsyncClient, state: SandboxState, clock: FakeClock
) -> None:
    followers = await _followers(client, 60)
    response = await client.post(NARROWCAST, json={"messages": [text()]}, headers=LINE_AUTH)
    assert response.status_code == 202
    request_id = response.headers["X-Line-Request-Id"]
    assert (await _progress(client, request_id))["phase"] == "waiting"
    clock.advance(state.config.narrowcast_phase_seconds)
    assert (await _progress(client, request_id))["phase"] == "sending"
    assert state.all_messages() == []
    clock.advance(state.config.narrowcast_phase_seconds)
    done = await _progress(client, request_id)
    assert done["phase"] == "succeeded"
    assert done["successCount"] == done["targetCount"] == 60
    assert "completedTime" in done
    assert {m.user_id for m in state.all_messages()} == set(followers)


async def test_narrowcast_to_fewer_than_50_recipients_fails_with_error_code_4(
    client: httpx.AsyncClient, state: SandboxState, clock: FakeClock
) -> None:
    await _followers(client, 60)
    response = await client.post(
        NARROWCAST, json={"messages": [text()], "limit": {"max": 49}}, headers=LINE_AUTH
    )
    assert response.status_code == 202
    clock.advance(10)
    progress = await _progress(client, response.headers["X-Line-Request-Id"])
    assert progress["phase"] == "failed"
    assert progress["errorCode"] == 4
    assert state.all_messages() == []


async def test_narrowcast_progress_for_an_unknown_request_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/line/v2/bot/message/progress/narrowcast",
        params={"requestId": "nope"},
        headers=LINE_AUTH,
    )
    assert response.status_code == 404


async def test_broadcast_reaches_every_friend_and_no_one_who_blocked(
    client: httpx.AsyncClient, state: SandboxState
) -> None:
    friend = await register(client, "line", "Friend")
    blocked = await register(client, "line", "Blocked", following=False)
    response = await client.post(BROADCAST, json={"messages": [text()]}, headers=LINE_AUTH)
    assert response.status_code == 200
    assert [m.user_id for m in state.all_messages()] == [friend]
    assert state.messages_for("line", blocked) == []


async def test_profile_of_a_friend_names_them_and_their_language(client: httpx.AsyncClient) -> None:
    user_id = await register(client, "line", "王小明", language="zh-TW")
    response = await client.get(f"/line/v2/bot/profile/{user_id}", headers=LINE_AUTH)
    assert response.status_code == 200
    assert response.json() == {"userId": user_id, "displayName": "王小明", "language": "zh-TW"}


async def test_profile_of_an_unknown_or_blocking_user_is_404(client: httpx.AsyncClient) -> None:
    blocked = await register(client, "line", "Blocked", following=False)
    for user_id in ("Uunknown", blocked):
        response = await client.get(f"/line/v2/bot/profile/{user_id}", headers=LINE_AUTH)
        assert response.status_code == 404


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "#06c755").save(buffer, format="PNG")
    return buffer.getvalue()


RICH_MENU = {
    "size": {"width": 2500, "height": 843},
    "selected": True,
    "name": "member menu",
    "chatBarText": "會員選單",
    "areas": [
        {
            "bounds": {"x": 0, "y": 0, "width": 833, "height": 843},
            "action": {"type": "postback", "data": "card", "label": "會員卡"},
        }
    ],
}


async def test_a_rich_menu_needs_its_image_before_it_becomes_the_default(
    client: httpx.AsyncClient, state: SandboxState
) -> None:
    created = await client.post("/line/v2/bot/richmenu", json=RICH_MENU, headers=LINE_AUTH)
    rich_menu_id = created.json()["richMenuId"]
    default = f"/line/v2/bot/user/all/richmenu/{rich_menu_id}"
    assert (await client.post(default, headers=LINE_AUTH)).status_code == 400
    content = f"/line-data/v2/bot/richmenu/{rich_menu_id}/content"
    image_headers = LINE_AUTH | {"Content-Type": "image/png"}
    uploaded = await client.post(content, content=_png(2500, 843), headers=image_headers)
    assert uploaded.status_code == 200
    again = await client.post(content, content=_png(2500, 843), headers=image_headers)
    assert again.status_code == 400
    assert (await client.post(default, headers=LINE_AUTH)).status_code == 200
    menu = state.default_rich_menu()
    assert menu is not None and menu.body["chatBarText"] == "會員選單"


async def test_a_rich_menu_image_outside_lines_size_rules_is_refused(
    client: httpx.AsyncClient,
) -> None:
    created = await client.post("/line/v2/bot/richmenu", json=RICH_MENU, headers=LINE_AUTH)
    content = f"/line-data/v2/bot/richmenu/{created.json()['richMenuId']}/content"
    response = await client.post(
        content, content=_png(500, 500), headers=LINE_AUTH | {"Content-Type": "image/png"}
    )
    assert response.status_code == 400


async def test_an_unknown_rich_menu_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/line/v2/bot/user/all/richmenu/richmenu-x", headers=LINE_AUTH)
    assert response.status_code == 404
