from collections.abc import AsyncIterator

import httpx
import pytest

from bot.http import make_http_client
from bot.messenger.sender import MessengerSender
from bot.sender import Sender
from bot.types import Button, Profile, Text
from tests.bot_messenger.fake_graph import (
    API_BASE,
    BAD_PARAMETER,
    MARKETING_FREQUENCY,
    OUTSIDE_WINDOW,
    PAGE_TOKEN,
    RATE_LIMITED,
    SERVICE_DOWN,
    FakeGraph,
)

HELLO = Text("哈囉", (Button("會員卡", payload="CARD"),))
BYE = Text("再見")


@pytest.fixture
def graph() -> FakeGraph:
    return FakeGraph()


@pytest.fixture
async def sender(graph: FakeGraph) -> AsyncIterator[MessengerSender]:
    async with graph.client() as client:
        yield MessengerSender(client, api_base=API_BASE, page_access_token=PAGE_TOKEN)


def test_it_implements_the_sender_interface(sender: MessengerSender) -> None:
    implementation: Sender = sender
    assert implementation.platform == "messenger"


async def test_a_reply_is_one_response_call_per_message(
    sender: MessengerSender, graph: FakeGraph
) -> None:
    result = await sender.reply("ignored-token", "psid-1", [HELLO, BYE])
    assert result.ok and result.status == 200
    assert result.detail == {"message_ids": ["m_1", "m_2"]}
    assert graph.sends == [
        {
            "recipient": {"id": "psid-1"},
            "messaging_type": "RESPONSE",
            "message": {
                "text": "哈囉",
                "quick_replies": [{"content_type": "text", "title": "會員卡", "payload": "CARD"}],
            },
        },
        {"recipient": {"id": "psid-1"}, "messaging_type": "RESPONSE", "message": {"text": "再見"}},
    ]


async def test_a_push_is_an_update(sender: MessengerSender, graph: FakeGraph) -> None:
    result = await sender.push("psid-1", [BYE], retry_key="ignored")
    assert result.ok
    assert graph.sends[0]["messaging_type"] == "UPDATE"
    assert "tag" not in graph.sends[0]


async def test_a_tagged_push_is_a_message_tag_send(
    sender: MessengerSender, graph: FakeGraph
) -> None:
    assert (await sender.push("psid-1", [BYE], tag="ACCOUNT_UPDATE")).ok
    assert graph.sends[0]["messaging_type"] == "MESSAGE_TAG"
    assert graph.sends[0]["tag"] == "ACCOUNT_UPDATE"


async def test_outside_the_window_is_a_final_outcome_not_an_exception(
    sender: MessengerSender, graph: FakeGraph
) -> None:
    graph.scripts["late"] = [OUTSIDE_WINDOW]
    result = await sender.push("late", [BYE])
    assert not result.ok
    assert (result.status, result.error, result.retryable) == (400, "outside_window", False)
    assert result.detail["code"] == 10
    assert result.detail["subcode"] == 2018278


@pytest.mark.parametrize(
    ("answer", "error"),
    [(RATE_LIMITED, "rate_limited"), (MARKETING_FREQUENCY, "rate_limited")],
)
async def test_rate_limits_may_be_retried(
    sender: MessengerSender, graph: FakeGraph, answer: tuple, error: str
) -> None:
    graph.scripts["busy"] = [answer]
    result = await sender.push("busy", [BYE])
    assert (result.ok, result.error, result.retryable) == (False, error, True)


async def test_server_errors_may_be_retried(sender: MessengerSender, graph: FakeGraph) -> None:
    graph.scripts["down"] = [SERVICE_DOWN]
    result = await sender.push("down", [BYE])
    assert (result.ok, result.status, result.error, result.retryable) == (
        False,
        503,
        "server_error",
        True,
    )


async def test_other_refusals_carry_graphs_message_and_are_final(
    sender: MessengerSender, graph: FakeGraph
) -> None:
    graph.scripts["odd"] = [BAD_PARAMETER]
    result = await sender.push("odd", [BYE])
    assert (result.ok, result.error, result.retryable) == (False, "(#100) Invalid parameter", False)


async def test_a_wrong_token_is_a_final_refusal(graph: FakeGraph) -> None:
    async with graph.client() as client:
        sender = MessengerSender(client, api_base=API_BASE, page_access_token="stale")
        result = await sender.push("psid-1", [BYE])
    assert (result.ok, result.retryable, result.detail["code"]) == (False, False, 190)
    assert graph.sends == []


async def test_a_failure_stops_the_remaining_messages(
    sender: MessengerSender, graph: FakeGraph
) -> None:
    graph.scripts["psid-1"] = [None, RATE_LIMITED]
    result = await sender.reply(None, "psid-1", [HELLO, BYE, HELLO])
    assert (result.ok, result.error) == (False, "rate_limited")
    assert result.detail["message_ids"] == ["m_1"]
    assert len(graph.sends) == 2


async def test_multicast_sends_to_each_recipient_and_reports_each(
    sender: MessengerSender, graph: FakeGraph
) -> None:
    graph.scripts["late"] = [OUTSIDE_WINDOW]
    result = await sender.multicast(["a", "late", "b", "a"], [HELLO, BYE], retry_key="k")
    assert [send["recipient"]["id"] for send in graph.sends] == ["a", "a", "late", "b", "b"]
    assert {send["messaging_type"] for send in graph.sends} == {"UPDATE"}
    assert (result.ok, result.error, result.retryable) == (False, "outside_window", False)
    assert result.detail["recipients"] == {
        "a": {"ok": True, "status": 200, "error": None, "retryable": False},
        "late": {"ok": False, "status": 400, "error": "outside_window", "retryable": False},
        "b": {"ok": True, "status": 200, "error": None, "retryable": False},
    }


async def test_multicast_is_ok_when_everyone_got_everything(
    sender: MessengerSender, graph: FakeGraph
) -> None:
    result = await sender.multicast(["a", "b"], [BYE], retry_key="k")
    assert result.ok
    assert set(result.detail["recipients"]) == {"a", "b"}


async def test_multicast_is_retryable_only_when_every_failure_is(
    sender: MessengerSender, graph: FakeGraph
) -> None:
    graph.scripts = {"busy": [RATE_LIMITED], "down": [SERVICE_DOWN]}
    assert (await sender.multicast(["busy", "down", "fine"], [BYE], retry_key="k")).retryable
    graph.scripts = {"busy": [RATE_LIMITED], "late": [OUTSIDE_WINDOW]}
    assert not (await sender.multicast(["busy", "late"], [BYE], retry_key="k")).retryable


async def test_the_profile_joins_first_and_last_name(
    sender: MessengerSender, graph: FakeGraph
) -> None:
    graph.profiles["psid-1"] = {"first_name": "小明", "last_name": "王", "locale": "zh_TW"}
    assert await sender.profile("psid-1") == Profile(display_name="小明 王", language="zh_TW")


async def test_a_profile_graph_will_not_give_is_none(sender: MessengerSender) -> None:
    assert await sender.profile("stranger") is None


def _failing_client(error: Exception) -> httpx.AsyncClient:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (httpx.ReadTimeout("slow"), "timeout"),
        (httpx.ConnectError("refused"), "transport_error"),
    ],
)
async def test_transport_failures_are_retryable_outcomes(error: Exception, reason: str) -> None:
    async with _failing_client(error) as client:
        sender = MessengerSender(client, api_base=API_BASE, page_access_token=PAGE_TOKEN)
        result = await sender.push("psid-1", [BYE])
        assert (result.ok, result.status, result.error, result.retryable) == (
            False,
            0,
            reason,
            True,
        )
        assert await sender.profile("psid-1") is None


async def test_an_answer_without_a_graph_body_is_classified_by_status() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html>Bad Gateway</html>")

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        sender = MessengerSender(client, api_base=API_BASE, page_access_token=PAGE_TOKEN)
        result = await sender.push("psid-1", [BYE])
    assert (result.ok, result.status, result.error, result.retryable) == (
        False,
        502,
        "server_error",
        True,
    )


async def test_an_unreachable_graph_is_a_retryable_outcome_on_the_production_transport() -> None:
    async with make_http_client() as client:
        sender = MessengerSender(
            client, api_base="http://127.0.0.1:1/v21.0", page_access_token=PAGE_TOKEN
        )
        result = await sender.push("psid-1", [BYE])
    assert (result.ok, result.status, result.retryable) == (False, 0, True)
    # httpx-aiohttp 0.2 maps a refused connection to ConnectTimeout, not ConnectError.
    assert result.error in ("timeout", "transport_error")
