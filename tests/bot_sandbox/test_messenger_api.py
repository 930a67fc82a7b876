"""The fake Messenger Send API honours the 24-hour window and message tags."""

import httpx
import pytest

from bot.sandbox import SandboxState
from tests.bot_sandbox.conftest import PAGE_TOKEN, FakeClock, register

SEND = f"/graph/me/messages?access_token={PAGE_TOKEN}"
DAY = 24 * 3600


def send_body(psid: str, messaging_type: str = "RESPONSE", **extra: object) -> dict[str, object]:
    return {
        "recipient": {"id": psid},
        "messaging_type": messaging_type,
        "message": {"text": "Your stamp is in!"},
        **extra,
    }


async def customer(client: httpx.AsyncClient, *, wrote: bool = True) -> str:
    psid = await register(client, "messenger", "Alex Chen", language="en")
    if wrote:
        assert (
            await client.post("/control/messenger/inbound", json={"user_id": psid})
        ).status_code == 204
    return psid


@pytest.mark.parametrize("token", ["", "wrong"])
async def test_a_send_without_the_page_token_is_refused_with_code_190(
    client: httpx.AsyncClient, state: SandboxState, token: str
) -> None:
    psid = await customer(client)
    response = await client.post(f"/graph/me/messages?access_token={token}", json=send_body(psid))
    assert response.status_code == 401
    error = response.json()["error"]
    assert (error["type"], error["code"]) == ("OAuthException", 190)
    assert state.all_messages() == []


async def test_a_response_within_the_window_is_delivered(
    client: httpx.AsyncClient, state: SandboxState
) -> None:
    psid = await customer(client)
    response = await client.post(SEND, json=send_body(psid))
    assert response.status_code == 200
    [recorded] = state.messages_for("messenger", psid)
    assert response.json() == {"recipient_id": psid, "message_id": recorded.message_id}
    assert (recorded.endpoint, recorded.messaging_type) == ("send", "RESPONSE")
    assert recorded.message == {"text": "Your stamp is in!"}


async def test_a_versioned_graph_path_is_served_too(client: httpx.AsyncClient) -> None:
    psid = await customer(client)
    response = await client.post(
        f"/graph/v21.0/me/messages?access_token={PAGE_TOKEN}", json=send_body(psid)
    )
    assert response.status_code == 200


@pytest.mark.parametrize("messaging_type", ["RESPONSE", "UPDATE"])
async def test_a_send_outside_the_24_hour_window_fails_with_code_10(
    client: httpx.AsyncClient, state: SandboxState, clock: FakeClock, messaging_type: str
) -> None:
    psid = await customer(client)
    clock.advance(DAY + 1)
    response = await client.post(SEND, json=send_body(psid, messaging_type))
    assert response.status_code == 400
    assert response.json()["error"] | {"fbtrace_id": None} == {
        "message": "(#10) This message is sent outside of allowed window.",
        "type": "OAuthException",
        "code": 10,
        "error_subcode": 2018278,
        "fbtrace_id": None,
    }
    assert state.all_messages() == []


async def test_a_person_who_never_wrote_is_outside_the_window(client: httpx.AsyncClient) -> None:
    psid = await customer(client, wrote=False)
    response = await client.post(SEND, json=send_body(psid, "UPDATE"))
    assert response.json()["error"]["code"] == 10


async def test_a_new_message_from_the_person_reopens_the_window(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    psid = await customer(client)
    clock.advance(DAY + 1)
    await client.post("/control/messenger/inbound", json={"user_id": psid})
    assert (await client.post(SEND, json=send_body(psid))).status_code == 200


@pytest.mark.parametrize(
    "tag", ["ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE"]
)
async def test_a_message_tag_is_allowed_outside_the_window(
    client: httpx.AsyncClient, state: SandboxState, clock: FakeClock, tag: str
) -> None:
    psid = await customer(client)
    clock.advance(30 * DAY)
    response = await client.post(SEND, json=send_body(psid, "MESSAGE_TAG", tag=tag))
    assert response.status_code == 200
    [recorded] = state.messages_for("messenger", psid)
    assert (recorded.messaging_type, recorded.tag) == ("MESSAGE_TAG", tag)


async def test_the_human_agent_tag_reaches_back_seven_days_only(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    psid = await customer(client)
    body = send_body(psid, "MESSAGE_TAG", tag="HUMAN_AGENT")
    clock.advance(6 * DAY)
    assert (await client.post(SEND, json=body)).status_code == 200
    clock.advance(2 * DAY)
    late = await client.post(SEND, json=body)
    assert late.json()["error"]["code"] == 10


@pytest.mark.parametrize("tag", [None, "PROMOTION", "account_update"])
async def test_an_invalid_message_tag_is_refused(
    client: httpx.AsyncClient, tag: str | None
) -> None:
    psid = await customer(client)
    response = await client.post(SEND, json=send_body(psid, "MESSAGE_TAG", tag=tag))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 100


async def test_a_send_without_recipient_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        SEND, json={"messaging_type": "RESPONSE", "message": {"text": "hi"}}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 100


async def test_a_send_to_an_unknown_person_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(SEND, json=send_body("1234567890123456"))
    assert response.status_code == 400
    assert response.json()["error"]["error_subcode"] == 2018001


async def test_a_generic_template_over_ten_elements_is_refused(client: httpx.AsyncClient) -> None:
    psid = await customer(client)
    element = {"title": "Card", "subtitle": "2 of 3 stamps"}
    message = {
        "attachment": {
            "type": "template",
            "payload": {"template_type": "generic", "elements": [element] * 11},
        }
    }
    body = {"recipient": {"id": psid}, "messaging_type": "RESPONSE", "message": message}
    assert (await client.post(SEND, json=body)).status_code == 400


async def test_the_messenger_profile_is_stored(
    client: httpx.AsyncClient, state: SandboxState
) -> None:
    profile = {
        "get_started": {"payload": "GET_STARTED"},
        "greeting": [{"locale": "default", "text": "Hi {{user_first_name}}!"}],
        "persistent_menu": [
            {
                "locale": "default",
                "call_to_actions": [{"type": "postback", "title": "Card", "payload": "CARD"}],
            }
        ],
    }
    response = await client.post(
        f"/graph/me/messenger_profile?access_token={PAGE_TOKEN}", json=profile
    )
    assert response.json() == {"result": "success"}
    assert state.messenger_profile() == profile
    read = await client.get(
        "/graph/me/messenger_profile",
        params={"access_token": PAGE_TOKEN, "fields": "get_started"},
    )
    assert read.json() == {"data": [{"get_started": {"payload": "GET_STARTED"}}]}


async def test_a_person_profile_gives_names_and_locale(client: httpx.AsyncClient) -> None:
    psid = await customer(client)
    response = await client.get(
        f"/graph/{psid}",
        params={"access_token": PAGE_TOKEN, "fields": "first_name,last_name,locale"},
    )
    assert response.json() == {
        "id": psid,
        "first_name": "Alex",
        "last_name": "Chen",
        "locale": "en_US",
    }


async def test_an_unknown_person_profile_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/graph/999", params={"access_token": PAGE_TOKEN})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 100
