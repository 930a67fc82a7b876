"""Correctly signed but hostile webhook bodies: refused in the error shape, nothing stored."""

import json

import pytest

from bot.sender import CollectingSender
from handlers.webhooks import MAX_JSON_DEPTH
from tests.events import line_body, line_text, messenger_body, messenger_text
from tests.harness import running_app
from tests.rows import row_counts


@pytest.fixture
def senders():
    return {"line": CollectingSender("line"), "messenger": CollectingSender("messenger")}


def nested_body(platform: str, depth: int) -> bytes:
    """A real text event whose message carries arrays nested until the whole body is
    `depth` levels deep (written as text: the encoder itself would give up past ~1,000)."""
    if platform == "line":
        event = line_text("U-deep", "card")
        event["message"]["extra"] = "DEEP"
        body, own_levels = line_body(event), 4  # body, events, event, message
    else:
        item = messenger_text("P-deep", "card")
        item["message"]["extra"] = "DEEP"
        body, own_levels = messenger_body(item), 6  # body, entry, entry, messaging, item, message
    extra = depth - own_levels
    return json.dumps(body).replace('"DEEP"', "[" * extra + "1" + "]" * extra).encode()


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1000, 50_000])
@pytest.mark.parametrize("platform", ["line", "messenger"])
async def test_a_signed_body_nested_too_deep_is_a_400_in_the_error_shape(
    db, settings, senders, platform, depth
):
    body = nested_body(platform, depth)
    async with running_app(settings, senders=senders) as harness:
        before = await row_counts(db)
        post = harness.post_line if platform == "line" else harness.post_messenger
        response = await post(body)
        await harness.drain()
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "malformed_payload"
        assert await row_counts(db) == before


@pytest.mark.parametrize("platform", ["line", "messenger"])
async def test_a_body_nested_within_the_limit_is_accepted(db, settings, senders, platform):
    body = nested_body(platform, MAX_JSON_DEPTH)
    async with running_app(settings, senders=senders) as harness:
        post = harness.post_line if platform == "line" else harness.post_messenger
        response = await post(body)
        await harness.drain()
    assert response.status_code == 200, response.text


async def test_every_method_of_the_messenger_webhook_is_in_allow(settings, senders):
    async with running_app(settings, senders=senders) as harness:
        response = await harness.client.options("/webhooks/messenger")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response.headers["allow"] == "GET, POST"


@pytest.mark.parametrize("platform", ["line", "messenger"])
async def test_half_a_surrogate_pair_is_a_400_not_a_failed_insert(db, settings, senders, platform):
    body = nested_body(platform, 8).replace(b"card", b"\\ud800card")
    async with running_app(settings, senders=senders) as harness:
        before = await row_counts(db)
        post = harness.post_line if platform == "line" else harness.post_messenger
        response = await post(body)
        emoji = await post(nested_body(platform, 8).replace(b"card", b"\\ud83c\\udf89card"))
        await harness.drain()
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "malformed_payload"
        assert emoji.status_code == 200, emoji.text
        assert (await row_counts(db))["handlers_webhook_event"] == (
            before["handlers_webhook_event"] + 1)


async def test_an_event_id_longer_than_the_column_is_stored_once_by_its_digest(
    db, settings, senders
):
    event = line_text("U-long", "card")
    event["webhookEventId"] = "x" * 5000
    async with running_app(settings, senders=senders) as harness:
        first = await harness.post_line(line_body(event))
        again = await harness.post_line(line_body(event))
        await harness.drain()
        assert (first.status_code, again.status_code) == (200, 200)
        assert await harness.stored_events() == 1
