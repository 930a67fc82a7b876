"""POST /webhooks/line: hostile input changes nothing, each event is processed once."""

import json

import pytest
from sqlalchemy import select

from bot.sender import CollectingSender
from core.i18n import t
from handlers.inbox_models import WebhookEvent
from tests.events import line_body, line_event, line_text
from tests.harness import line_signature, running_app
from tests.platform_fixtures import SignatureVector, payload_bytes, payload_names, vector_params


@pytest.fixture
def senders():
    return {"line": CollectingSender("line"), "messenger": CollectingSender("messenger")}


async def test_missing_or_wrong_signature_answers_401_and_stores_nothing(settings, senders):
    body = line_body(line_text("U1", "card"))
    async with running_app(settings, senders=senders) as harness:
        wrong = await harness.post_line(body, signature="bm90IGEgc2lnbmF0dXJl")
        raw = json.dumps(body).encode()
        missing = await harness.client.post("/webhooks/line", content=raw)
        await harness.drain()
        assert wrong.status_code == 401
        assert missing.status_code == 401
        assert wrong.json()["error"]["code"] == "invalid_signature"
        assert await harness.stored_events() == 0
    assert senders["line"].sent == []


async def test_body_that_is_not_json_answers_400(settings, senders):
    async with running_app(settings, senders=senders) as harness:
        response = await harness.post_line(b"{not json")
        not_object = await harness.post_line(b"[1, 2]")
        assert response.status_code == 400
        assert not_object.status_code == 400
        assert await harness.stored_events() == 0


async def test_body_over_one_mebibyte_answers_413(settings, senders):
    oversized = json.dumps({"events": [], "pad": "x" * (1024 * 1024)}).encode()
    async with running_app(settings, senders=senders) as harness:
        response = await harness.post_line(oversized)
        assert response.status_code == 413
        assert await harness.stored_events() == 0


async def test_empty_events_list_is_the_verify_call_and_answers_200(settings, senders):
    async with running_app(settings, senders=senders) as harness:
        response = await harness.post_line({"destination": "Ubot", "events": []})
        assert response.status_code == 200


async def test_redelivered_event_is_processed_once(settings, senders):
    event = line_text("U-redeliver", "card")
    async with running_app(settings, senders=senders) as harness:
        first = await harness.post_line(line_body(event))
        again = dict(event, deliveryContext={"isRedelivery": True})
        second = await harness.post_line(line_body(again))
        await harness.drain()
        assert (first.status_code, second.status_code) == (200, 200)
        assert await harness.stored_events() == 1
    replies = [s for s in senders["line"].sent if s.user_ids == ("U-redeliver",)]
    assert len(replies) == 1


async def test_standby_events_are_not_replied_to(settings, senders):
    event = line_text("U-standby", "card", mode="standby")
    async with running_app(settings, senders=senders) as harness:
        assert (await harness.post_line(line_body(event))).status_code == 200
        await harness.drain()
    assert senders["line"].sent == []


async def test_group_join_gets_a_polite_pointer_and_group_messages_get_nothing(settings, senders):
    group = {"type": "group", "groupId": "G1"}
    joined = line_event("join", "", source=group)
    talk = line_text("U-in-group", "card", source={**group, "userId": "U-in-group"})
    async with running_app(settings, senders=senders) as harness:
        assert (await harness.post_line(line_body(joined, talk))).status_code == 200
        await harness.drain()
    [pointer] = senders["line"].sent
    assert pointer.messages[0].text == t("chat.group.one_to_one", "zh-TW",
                                         brand=settings.brand_name)


@pytest.mark.parametrize("name", payload_names("line"))
async def test_sdk_fixture_bodies_are_accepted_and_every_stored_event_is_handled(
    settings, senders, name
):
    raw = payload_bytes("line", name)
    async with running_app(settings, senders=senders) as harness:
        response = await harness.post_line(raw)
        await harness.drain()
        assert response.status_code == 200
        async with harness.app.state.db.transaction() as session:
            rows = (await session.execute(select(WebhookEvent))).scalars().all()
    assert rows, "the fixture's follow/message/postback events were stored"
    assert all(row.processed_at is not None and row.error is None for row in rows)


@pytest.mark.parametrize("vector", vector_params("line"))
async def test_signature_vectors_are_accepted_or_rejected_as_labelled(
    settings, senders, vector: SignatureVector
):
    settings = settings.model_copy(update={"line_channel_secret": vector.secret})
    async with running_app(settings, senders=senders) as harness:
        response = await harness.post_line(vector.body, signature=vector.signature)
    if vector.valid:
        assert response.status_code != 401
    else:
        assert response.status_code == 401


def test_signature_helper_matches_the_sdk_vector():
    assert line_signature("channel_secret", b"bodybodybodybody") == \
        "/gg9a+LvFevTH1sd7XCQycD7tsWclCsInj7MhBHxN7k="
