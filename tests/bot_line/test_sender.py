from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from bot.line.sender import LineSender
from bot.sender import Sender
from bot.types import Button, Profile, Text

API = "http://api.line.test"
DATA_API = "http://api-data.line.test"
TOKEN = "channel-token"
HELLO = [Text("哈囉", quick_replies=(Button("會員卡", payload="card"),))]


@dataclass
class FakeLine:
    """Just enough of the Messaging API to see what the sender sends and how it reads
    the answers (the full sandbox lives in bot/sandbox/)."""

    calls: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)
    accepted_retry_keys: set[str] = field(default_factory=set)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.middleware("http")
        async def record(request: Request, call_next):
            body = await request.body()
            self.calls.append(
                (request.url.path, dict(request.headers), request.query_params or body)
            )
            if request.headers.get("authorization") != f"Bearer {TOKEN}":
                return JSONResponse({"message": "Authentication failed"}, status_code=401)
            return await call_next(request)

        @app.post("/v2/bot/message/reply")
        async def reply(request: Request) -> Response:
            body = await request.json()
            if body["replyToken"] == "spent":
                return JSONResponse({"message": "Invalid reply token"}, status_code=400)
            if body["replyToken"] == "malformed":
                return JSONResponse(
                    {
                        "message": "The request body has 1 error(s)",
                        "details": [{"message": "must be specified", "property": "messages"}],
                    },
                    status_code=400,
                )
            return JSONResponse({"sentMessages": [{"id": "m1", "quoteToken": "q1"}]})

        @app.post("/v2/bot/message/push")
        @app.post("/v2/bot/message/multicast")
        @app.post("/v2/bot/message/narrowcast")
        async def send(request: Request) -> Response:
            body = await request.json()
            recipients = body.get("to") or []
            if "U429" in recipients:
                return JSONResponse({"message": "Too Many Requests"}, status_code=429)
            if "U500" in recipients:
                return PlainTextResponse("<html>oops</html>", status_code=500)
            retry_key = request.headers.get("x-line-retry-key")
            if retry_key in self.accepted_retry_keys:
                return JSONResponse(
                    {"message": "The retry key is already accepted", "sentMessages": []},
                    status_code=409,
                    headers={"x-line-accepted-request-id": "first"},
                )
            if retry_key:
                self.accepted_retry_keys.add(retry_key)
            if request.url.path.endswith("narrowcast"):
                return JSONResponse({}, status_code=202, headers={"X-Line-Request-Id": "req-1"})
            return JSONResponse({"sentMessages": [{"id": "m2"}]})

        @app.get("/v2/bot/profile/{user_id}")
        async def profile(user_id: str) -> Response:
            if user_id == "U404":
                return JSONResponse({"message": "Not found"}, status_code=404)
            if user_id == "U500":
                return JSONResponse({"message": "Internal error"}, status_code=500)
            return JSONResponse({"userId": user_id, "displayName": "小明", "language": "zh-TW"})

        return app

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.calls]


@pytest.fixture
def fake_line() -> FakeLine:
    return FakeLine()


@pytest.fixture
async def client(fake_line: FakeLine) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake_line.app())) as client:
        yield client


@pytest.fixture
def sender(client: httpx.AsyncClient) -> LineSender:
    return LineSender(client, api_base=API, access_token=TOKEN)


def test_line_sender_satisfies_the_sender_interface(sender: LineSender) -> None:
    as_interface: Sender = sender
    assert as_interface.platform == "line"


async def test_reply_posts_the_token_and_rendered_messages(
    sender: LineSender, fake_line: FakeLine
) -> None:
    result = await sender.reply("token-1", "U1", HELLO)
    assert result.ok and result.status == 200 and not result.used_push
    assert result.detail["sentMessages"][0]["id"] == "m1"
    ((path, headers, body),) = fake_line.calls
    assert path == "/v2/bot/message/reply"
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["content-type"] == "application/json"
    assert "x-line-retry-key" not in headers
    assert b'"replyToken":"token-1"' in body
    assert "哈囉".encode() in body


async def test_reply_with_a_spent_token_falls_back_to_push(
    sender: LineSender, fake_line: FakeLine
) -> None:
    result = await sender.reply("spent", "U1", HELLO)
    assert result.ok and result.used_push
    assert fake_line.paths() == ["/v2/bot/message/reply", "/v2/bot/message/push"]
    assert b'"to":"U1"' in fake_line.calls[1][2]


async def test_reply_without_a_token_pushes(sender: LineSender, fake_line: FakeLine) -> None:
    result = await sender.reply(None, "U1", HELLO)
    assert result.ok and result.used_push
    assert fake_line.paths() == ["/v2/bot/message/push"]


async def test_other_reply_errors_are_returned_with_lines_details(
    sender: LineSender, fake_line: FakeLine
) -> None:
    result = await sender.reply("malformed", "U1", HELLO)
    assert not result.ok and not result.retryable and not result.used_push
    assert result.status == 400
    assert result.error == "The request body has 1 error(s)"
    assert result.detail["details"] == [{"message": "must be specified", "property": "messages"}]
    assert fake_line.paths() == ["/v2/bot/message/reply"]


async def test_push_sends_the_retry_key_header(sender: LineSender, fake_line: FakeLine) -> None:
    result = await sender.push("U1", HELLO, retry_key="key-1")
    assert result.ok and result.status == 200
    assert fake_line.calls[0][1]["x-line-retry-key"] == "key-1"


async def test_multicast_sends_ids_and_retry_key(sender: LineSender, fake_line: FakeLine) -> None:
    result = await sender.multicast(["U1", "U2"], HELLO, retry_key="batch-1")
    assert result.ok and result.status == 200
    path, headers, body = fake_line.calls[0]
    assert path == "/v2/bot/message/multicast"
    assert headers["x-line-retry-key"] == "batch-1"
    assert b'"to":["U1","U2"]' in body


async def test_multicast_retried_with_an_accepted_key_counts_as_sent(
    sender: LineSender,
) -> None:
    await sender.multicast(["U1"], HELLO, retry_key="batch-1")
    again = await sender.multicast(["U1"], HELLO, retry_key="batch-1")
    assert again.ok and again.status == 409 and not again.retryable
    assert again.detail["already_accepted"] is True


async def test_multicast_over_500_ids_is_refused_before_sending(
    sender: LineSender, fake_line: FakeLine
) -> None:
    with pytest.raises(ValueError, match="500"):
        await sender.multicast([f"U{n}" for n in range(501)], HELLO, retry_key="k")
    assert fake_line.calls == []


async def test_rate_limit_is_retryable(sender: LineSender) -> None:
    result = await sender.multicast(["U429"], HELLO, retry_key="k")
    assert (result.ok, result.status, result.retryable) == (False, 429, True)
    assert result.error == "Too Many Requests"


async def test_server_error_without_json_is_retryable(sender: LineSender) -> None:
    result = await sender.push("U500", HELLO)
    assert (result.ok, result.status, result.retryable) == (False, 500, True)
    assert result.error == "HTTP 500"


async def test_wrong_token_is_a_permanent_failure(client: httpx.AsyncClient) -> None:
    sender = LineSender(client, api_base=API, access_token="wrong")
    result = await sender.push("U1", HELLO)
    assert (result.ok, result.status, result.retryable) == (False, 401, False)


@pytest.mark.parametrize("failure", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow")])
async def test_network_failures_are_retryable_status_0(failure: httpx.HTTPError) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise failure

    async with httpx.AsyncClient(transport=httpx.MockTransport(fail)) as client:
        sender = LineSender(client, api_base=API, access_token=TOKEN)
        result = await sender.reply("token", "U1", HELLO)
    assert (result.ok, result.status, result.retryable) == (False, 0, True)
    assert type(failure).__name__ in (result.error or "")


async def test_profile_reads_display_name_and_language(sender: LineSender) -> None:
    assert await sender.profile("U1") == Profile(display_name="小明", language="zh-TW")


@pytest.mark.parametrize("user_id", ["U404", "U500"])
async def test_profile_of_unknown_user_or_failed_lookup_is_none(
    sender: LineSender, user_id: str
) -> None:
    assert await sender.profile(user_id) is None


async def test_narrowcast_returns_the_request_id_to_follow(
    sender: LineSender, fake_line: FakeLine
) -> None:
    result = await sender.narrowcast(
        HELLO,
        retry_key="nc-1",
        recipient={"type": "audience", "audienceGroupId": 42},
        limit={"max": 100},
    )
    assert result.ok and result.status == 202
    assert result.detail["request_id"] == "req-1"
    _, headers, body = fake_line.calls[0]
    assert headers["x-line-retry-key"] == "nc-1"
    assert b'"audienceGroupId":42' in body and b'"limit":{"max":100}' in body
    assert b'"filter"' not in body
