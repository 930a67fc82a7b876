"""The control API that tests, benchmarks and the simulator use."""

import httpx

from bot.sandbox import SandboxState
from tests.bot_sandbox.conftest import LINE_AUTH, register, text


async def test_recorded_messages_can_be_read_after_an_id_and_filtered(
    client: httpx.AsyncClient,
) -> None:
    for to in ("Ua", "Ub", "Ua"):
        await client.post(
            "/line/v2/bot/message/push", json={"to": to, "messages": [text(to)]}, headers=LINE_AUTH
        )
    everything = (await client.get("/control/messages")).json()["messages"]
    assert [m["user_id"] for m in everything] == ["Ua", "Ub", "Ua"]
    for_a = await client.get("/control/messages", params={"platform": "line", "user_id": "Ua"})
    assert [m["id"] for m in for_a.json()["messages"]] == [everything[0]["id"], everything[2]["id"]]
    after = await client.get("/control/messages", params={"after_id": everything[1]["id"]})
    assert [m["id"] for m in after.json()["messages"]] == [everything[2]["id"]]
    assert everything[0]["message"] == text("Ua")
    assert everything[0]["endpoint"] == "push"


async def test_a_reply_token_from_the_control_api_answers_its_user(
    client: httpx.AsyncClient, state: SandboxState
) -> None:
    user_id = await register(client, "line")
    issued = await client.post("/control/reply-tokens", json={"user_id": user_id})
    token = issued.json()["replyToken"]
    reply = await client.post(
        "/line/v2/bot/message/reply",
        json={"replyToken": token, "messages": [text()]},
        headers=LINE_AUTH,
    )
    assert reply.status_code == 200
    assert len(state.messages_for("line", user_id)) == 1


async def test_users_are_registered_with_generated_ids(client: httpx.AsyncClient) -> None:
    line_id = await register(client, "line", "Amy")
    psid = await register(client, "messenger", "Ben")
    assert line_id.startswith("U") and len(line_id) == 33
    assert psid.isdigit()
    listed = (await client.get("/control/users", params={"platform": "line"})).json()["users"]
    assert [(u["user_id"], u["display_name"], u["following"]) for u in listed] == [
        (line_id, "Amy", True)
    ]


async def test_opening_the_window_for_an_unknown_person_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/control/messenger/inbound", json={"user_id": "42"})
    assert response.status_code == 404


async def test_reset_forgets_users_messages_and_faults(
    client: httpx.AsyncClient, state: SandboxState
) -> None:
    await register(client, "line")
    await client.post(
        "/line/v2/bot/message/push", json={"to": "Ua", "messages": [text()]}, headers=LINE_AUTH
    )
    await client.post("/control/faults", json={"endpoint": "push", "effect": "500"})
    assert (await client.post("/control/reset")).status_code == 204
    assert (state.users(), state.all_messages(), state.faults()) == ([], [], [])


async def test_the_monthly_quota_can_be_set(client: httpx.AsyncClient) -> None:
    assert (await client.put("/control/quota", json={"monthly_quota": 10})).status_code == 204
    quota = await client.get("/line/v2/bot/message/quota", headers=LINE_AUTH)
    assert quota.json() == {"type": "limited", "value": 10}
