"""Faults switched on through the control API, and the Messenger rate limit."""

import asyncio
import uuid

import httpx
import pytest

from bot.sandbox import RateLimit, SandboxState
from tests.bot_sandbox.conftest import LINE_AUTH, PAGE_TOKEN, register, text

PUSH = "/line/v2/bot/message/push"
SEND = f"/graph/me/messages?access_token={PAGE_TOKEN}"


async def push(client: httpx.AsyncClient, **headers: str) -> httpx.Response:
    return await client.post(
        PUSH, json={"to": "Ualice", "messages": [text()]}, headers=LINE_AUTH | headers
    )


async def fault(client: httpx.AsyncClient, **spec: object) -> None:
    response = await client.post("/control/faults", json=spec)
    assert response.status_code == 201


async def test_a_429_fault_hits_the_next_n_calls_then_stops(
    client: httpx.AsyncClient, state: SandboxState
) -> None:
    await fault(client, endpoint="push", effect="429", count=2)
    statuses = [(await push(client)).status_code for _ in range(3)]
    assert statuses == [429, 429, 200]
    assert len(state.messages_for("line", "Ualice")) == 1
    assert (await client.get("/control/faults")).json() == {"faults": []}


async def test_a_500_fault_lasts_until_switched_off(
    client: httpx.AsyncClient, state: SandboxState
) -> None:
    await fault(client, endpoint="push", effect="500")
    first, second = await push(client), await push(client)
    assert (first.status_code, second.status_code) == (500, 500)
    assert first.json() == {"message": "Internal Server Error"}
    assert (await client.delete("/control/faults")).status_code == 204
    assert (await push(client)).status_code == 200
    assert len(state.all_messages()) == 1


async def test_a_fault_hits_only_its_endpoint(client: httpx.AsyncClient) -> None:
    await fault(client, endpoint="multicast", effect="500")
    assert (await push(client)).status_code == 200
    await client.delete("/control/faults", params={"endpoint": "multicast"})
    multicast = await client.post(
        "/line/v2/bot/message/multicast",
        json={"to": ["Ua"], "messages": [text()]},
        headers=LINE_AUTH,
    )
    assert multicast.status_code == 200


async def test_a_fractional_fault_hits_some_calls_and_spares_others(
    client: httpx.AsyncClient,
) -> None:
    await fault(client, endpoint="push", effect="500", fraction=0.5)
    statuses = [(await push(client)).status_code for _ in range(40)]
    assert 0 < statuses.count(500) < 40
    assert statuses.count(500) + statuses.count(200) == 40


async def test_a_timeout_fault_delivers_but_answers_too_late_and_the_retry_gets_409(
    client: httpx.AsyncClient, state: SandboxState
) -> None:
    await fault(client, endpoint="push", effect="timeout", count=1, delay_seconds=30)
    key = str(uuid.uuid4())
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(push(client, **{"X-Line-Retry-Key": key}), timeout=0.2)
    assert len(state.messages_for("line", "Ualice")) == 1
    retry = await push(client, **{"X-Line-Retry-Key": key})
    assert retry.status_code == 409
    assert len(state.messages_for("line", "Ualice")) == 1


async def test_messenger_faults_answer_in_graphs_shape(client: httpx.AsyncClient) -> None:
    psid = await register(client, "messenger")
    await client.post("/control/messenger/inbound", json={"user_id": psid})
    body = {"recipient": {"id": psid}, "messaging_type": "RESPONSE", "message": {"text": "hi"}}
    await fault(client, endpoint="send", effect="429", count=1)
    await fault(client, endpoint="send", effect="500", count=1)
    limited, failed, delivered = [await client.post(SEND, json=body) for _ in range(3)]
    assert (limited.status_code, limited.json()["error"]["code"]) == (429, 613)
    assert (failed.status_code, failed.json()["error"]["is_transient"]) == (500, True)
    assert delivered.status_code == 200


async def test_messenger_over_the_rate_limit_answers_code_613(
    client: httpx.AsyncClient, state: SandboxState
) -> None:
    psid = await register(client, "messenger")
    await client.post("/control/messenger/inbound", json={"user_id": psid})
    state.set_rate_limit("send", RateLimit(requests=1, per_seconds=60))
    body = {"recipient": {"id": psid}, "messaging_type": "RESPONSE", "message": {"text": "hi"}}
    assert (await client.post(SEND, json=body)).status_code == 200
    limited = await client.post(SEND, json=body)
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == 613


async def test_a_rate_limit_set_through_the_control_api_applies(client: httpx.AsyncClient) -> None:
    response = await client.put(
        "/control/rate-limits/push", json={"requests": 1, "per_seconds": 60}
    )
    assert response.status_code == 204
    assert [(await push(client)).status_code for _ in range(2)] == [200, 429]
    await client.delete("/control/rate-limits/push")
    assert (await push(client)).status_code == 200
