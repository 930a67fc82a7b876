"""The simulator turns a customer's actions into correctly signed, realistic webhooks."""

import base64
import hashlib
import hmac
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi import FastAPI
from linebot.v3 import WebhookParser
from linebot.v3.webhooks import (
    FollowEvent,
    MessageEvent,
    PostbackEvent,
    TextMessageContent,
    UnfollowEvent,
)

from bot.sandbox import SandboxState, simulator_router
from bot.sandbox.records import CustomerAction
from core.errors import install_error_handler

LINE_SECRET = "test-line-channel-secret"
APP_SECRET = "test-messenger-app-secret"
ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


@dataclass
class RecordingReceiver:
    """Stands in for Punchline's webhook receivers."""

    status: int = 200
    received: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)

    async def __call__(self, platform: str, body: bytes, headers: dict[str, str]) -> int:
        self.received.append((platform, body, headers))
        return self.status

    def last(self) -> tuple[str, bytes, dict[str, str]]:
        return self.received[-1]


@pytest.fixture
def receiver() -> RecordingReceiver:
    return RecordingReceiver()


@pytest.fixture
def sim_state() -> SandboxState:
    return SandboxState()


@pytest.fixture
async def sim(
    sim_state: SandboxState, receiver: RecordingReceiver
) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    install_error_handler(app)
    router = simulator_router(
        sim_state,
        deliver=receiver,
        line_channel_secret=LINE_SECRET,
        messenger_app_secret=APP_SECRET,
        brand_name="Punchline Coffee",
    )
    app.include_router(router, prefix="/simulator")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://punchline") as http:
        yield http


async def new_customer(sim: httpx.AsyncClient, platform: str, name: str = "王小明") -> str:
    response = await sim.post(
        "/simulator/api/users", json={"platform": platform, "display_name": name}
    )
    assert response.status_code == 201
    return response.json()["user_id"]


async def act(sim: httpx.AsyncClient, platform: str, user_id: str, **action: object) -> dict:
    response = await sim.post(
        "/simulator/api/events", json={"platform": platform, "user_id": user_id, **action}
    )
    assert response.status_code == 200
    return response.json()


def line_signature(body: bytes) -> str:
    digest = hmac.new(LINE_SECRET.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def parse_line(body: bytes, headers: dict[str, str]) -> list[object]:
    assert headers["X-Line-Signature"] == line_signature(body)
    return WebhookParser(LINE_SECRET).parse(body.decode("utf-8"), headers["X-Line-Signature"])


async def test_add_friend_sends_a_signed_follow_event_with_a_live_reply_token(
    sim: httpx.AsyncClient, sim_state: SandboxState, receiver: RecordingReceiver
) -> None:
    user_id = await new_customer(sim, "line")
    result = await act(sim, "line", user_id, action="follow")
    assert result["status"] == 200
    platform, body, headers = receiver.last()
    assert platform == "line"
    [event] = parse_line(body, headers)
    assert isinstance(event, FollowEvent)
    assert event.source.user_id == user_id
    assert event.follow.is_unblocked is False
    raw = json.loads(body)
    assert raw["destination"] == sim_state.config.line_bot_user_id
    assert ULID.match(raw["events"][0]["webhookEventId"])
    assert raw["events"][0]["mode"] == "active"
    assert raw["events"][0]["deliveryContext"] == {"isRedelivery": False}
    assert sim_state.consume_reply_token(event.reply_token) == user_id
    user = sim_state.user("line", user_id)
    assert user is not None and user.following


async def test_typed_text_becomes_a_message_event_the_sdk_parses_with_its_quote_token(
    sim: httpx.AsyncClient, receiver: RecordingReceiver
) -> None:
    user_id = await new_customer(sim, "line")
    await act(sim, "line", user_id, action="follow")
    await act(sim, "line", user_id, action="text", text="會員卡 ☕")
    _, body, headers = receiver.last()
    [event] = parse_line(body, headers)
    assert isinstance(event, MessageEvent)
    assert isinstance(event.message, TextMessageContent)
    assert event.message.text == "會員卡 ☕"
    assert event.message.quote_token
    assert "會員卡".encode() in body  # sent as UTF-8, signed over these exact bytes


async def test_a_tapped_postback_button_becomes_a_postback_event(
    sim: httpx.AsyncClient, receiver: RecordingReceiver, sim_state: SandboxState
) -> None:
    user_id = await new_customer(sim, "line")
    await act(sim, "line", user_id, action="postback", payload="action=rewards", label="我的獎勵")
    _, body, headers = receiver.last()
    [event] = parse_line(body, headers)
    assert isinstance(event, PostbackEvent)
    assert event.postback.data == "action=rewards"
    [shown] = sim_state.transcript("line", user_id)
    assert isinstance(shown, CustomerAction)
    assert (shown.kind, shown.text) == ("postback", "我的獎勵")


async def test_block_sends_an_unfollow_event_and_a_later_follow_is_an_unblock(
    sim: httpx.AsyncClient, receiver: RecordingReceiver, sim_state: SandboxState
) -> None:
    user_id = await new_customer(sim, "line")
    await act(sim, "line", user_id, action="follow")
    await act(sim, "line", user_id, action="unfollow")
    _, body, headers = receiver.last()
    [event] = parse_line(body, headers)
    assert isinstance(event, UnfollowEvent)
    assert "replyToken" not in json.loads(body)["events"][0]
    user = sim_state.user("line", user_id)
    assert user is not None and not user.following
    await act(sim, "line", user_id, action="follow")
    [again] = parse_line(*receiver.last()[1:])
    assert isinstance(again, FollowEvent)
    assert again.follow.is_unblocked is True


async def test_get_started_with_an_invite_ref_is_a_signed_postback_and_opens_the_window(
    sim: httpx.AsyncClient, receiver: RecordingReceiver, sim_state: SandboxState
) -> None:
    psid = await new_customer(sim, "messenger", "Alex Chen")
    assert sim_state.seconds_since_inbound(psid) is None
    await act(sim, "messenger", psid, action="get_started", ref="INVITE42")
    platform, body, headers = receiver.last()
    assert platform == "messenger"
    expected = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Hub-Signature-256"], expected)
    payload = json.loads(body)
    assert payload["object"] == "page"
    [entry] = payload["entry"]
    [item] = entry["messaging"]
    assert item["sender"] == {"id": psid}
    assert item["recipient"] == {"id": sim_state.config.messenger_page_id} == {"id": entry["id"]}
    assert item["postback"]["payload"] == "GET_STARTED"
    assert item["postback"]["mid"]
    assert item["postback"]["referral"] == {
        "ref": "INVITE42",
        "source": "SHORTLINK",
        "type": "OPEN_THREAD",
    }
    assert sim_state.seconds_since_inbound(psid) == pytest.approx(0, abs=1)


async def test_get_started_uses_the_payload_the_page_configured(
    sim: httpx.AsyncClient, receiver: RecordingReceiver, sim_state: SandboxState
) -> None:
    sim_state.update_messenger_profile({"get_started": {"payload": "JOIN"}})
    psid = await new_customer(sim, "messenger")
    await act(sim, "messenger", psid, action="get_started")
    item = json.loads(receiver.last()[1])["entry"][0]["messaging"][0]
    assert item["postback"]["payload"] == "JOIN"
    assert "referral" not in item["postback"]


async def test_a_messenger_quick_reply_carries_its_payload(
    sim: httpx.AsyncClient, receiver: RecordingReceiver
) -> None:
    psid = await new_customer(sim, "messenger")
    await act(sim, "messenger", psid, action="text", text="Send me offers", payload="OPT_IN")
    message = json.loads(receiver.last()[1])["entry"][0]["messaging"][0]["message"]
    assert message["text"] == "Send me offers"
    assert message["quick_reply"] == {"payload": "OPT_IN"}
    assert message["mid"].startswith("m_")


async def test_an_invite_link_on_an_existing_thread_is_a_referral_event(
    sim: httpx.AsyncClient, receiver: RecordingReceiver
) -> None:
    psid = await new_customer(sim, "messenger")
    await act(sim, "messenger", psid, action="referral", ref="FRIEND7")
    item = json.loads(receiver.last()[1])["entry"][0]["messaging"][0]
    assert item["referral"] == {"ref": "FRIEND7", "source": "SHORTLINK", "type": "OPEN_THREAD"}


async def test_the_transcript_holds_both_sides_in_order(
    sim: httpx.AsyncClient, sim_state: SandboxState
) -> None:
    user_id = await new_customer(sim, "line")
    await act(sim, "line", user_id, action="text", text="card")
    sim_state.record_sent(
        platform="line",
        endpoint="reply",
        user_ids=[user_id],
        messages=[{"type": "text", "text": "Here's your card"}],
        request_id="r1",
    )
    response = await sim.get(
        "/simulator/api/transcript", params={"platform": "line", "user_id": user_id}
    )
    entries = response.json()["entries"]
    assert [(e["direction"], e.get("text") or e.get("message")) for e in entries] == [
        ("user", "card"),
        ("bot", {"type": "text", "text": "Here's your card"}),
    ]
    later = await sim.get(
        "/simulator/api/transcript",
        params={"platform": "line", "user_id": user_id, "after_id": entries[0]["id"]},
    )
    assert [e["direction"] for e in later.json()["entries"]] == ["bot"]


async def test_the_receivers_status_is_reported_to_the_page(
    sim: httpx.AsyncClient, receiver: RecordingReceiver
) -> None:
    receiver.status = 401
    user_id = await new_customer(sim, "line")
    assert (await act(sim, "line", user_id, action="follow"))["status"] == 401


async def test_an_action_for_an_unknown_customer_is_404(sim: httpx.AsyncClient) -> None:
    response = await sim.post(
        "/simulator/api/events", json={"platform": "line", "user_id": "Ux", "action": "follow"}
    )
    assert response.status_code == 404


async def test_the_page_speaks_the_asked_language_and_carries_test_ids(
    sim: httpx.AsyncClient,
) -> None:
    english = await sim.get("/simulator/", params={"lang": "en"})
    assert english.status_code == 200
    assert "Chat simulator" in english.text and "Add friend" in english.text
    for test_id in ("text-input", "send", "follow-button", "get-started-button", "tab-line"):
        assert f'data-testid="{test_id}"' in english.text
    chinese = await sim.get("/simulator/", headers={"Accept-Language": "zh-TW"})
    assert "加入好友" in chinese.text
    script = await sim.get("/simulator/static/simulator.js")
    assert script.status_code == 200 and "renderFlexContainer" in script.text
    assert (await sim.get("/simulator/static/secret.py")).status_code == 404


async def test_an_action_the_platform_lacks_is_a_422_in_the_error_shape(
    sim: httpx.AsyncClient,
) -> None:
    user_id = await new_customer(sim, "line")
    response = await sim.post("/simulator/api/events",
                              json={"platform": "line", "user_id": user_id, "action": "referral"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unsupported_action"
    assert "LINE has no referral action" in response.json()["error"]["message"]
