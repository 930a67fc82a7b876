"""GET/POST /webhooks/messenger: verification, signatures, fixtures, once-only processing."""

import json

import pytest
from sqlalchemy import select

from bot.sender import CollectingSender
from handlers.inbox_models import WebhookEvent
from tests.events import messenger_body, messenger_text
from tests.harness import running_app
from tests.platform_fixtures import SignatureVector, payload_bytes, payload_names, vector_params


@pytest.fixture
def senders():
    return {"line": CollectingSender("line"), "messenger": CollectingSender("messenger")}


async def test_subscription_check_echoes_the_challenge_only_for_the_right_token(settings, senders):
    params = {"hub.mode": "subscribe", "hub.challenge": "1158201444"}
    async with running_app(settings, senders=senders) as harness:
        good = await harness.client.get(
            "/webhooks/messenger",
            params={**params, "hub.verify_token": settings.messenger_verify_token})
        bad = await harness.client.get("/webhooks/messenger",
                                       params={**params, "hub.verify_token": "guess"})
    assert (good.status_code, good.text) == (200, "1158201444")
    assert bad.status_code == 403


async def test_wrong_signature_answers_401_and_stores_nothing(settings, senders):
    async with running_app(settings, senders=senders) as harness:
        response = await harness.post_messenger(messenger_body(messenger_text("P1", "card")),
                                                signature="sha256=" + "0" * 64)
        unsigned = await harness.client.post("/webhooks/messenger", content=b"{}")
        assert (response.status_code, unsigned.status_code) == (401, 401)
        assert await harness.stored_events() == 0


async def test_malformed_and_oversized_bodies_are_refused(settings, senders):
    async with running_app(settings, senders=senders) as harness:
        assert (await harness.post_messenger(b"\xff\xfe")).status_code == 400
        assert (await harness.post_messenger(b'{"entry": 5}')).status_code == 400
        big = json.dumps({"entry": [], "pad": "x" * (1024 * 1024)}).encode()
        assert (await harness.post_messenger(big)).status_code == 413
        assert await harness.stored_events() == 0


async def test_redelivered_message_is_processed_once(settings, senders):
    body = messenger_body(messenger_text("P-redeliver", "card"))
    async with running_app(settings, senders=senders) as harness:
        await harness.post_messenger(body)
        await harness.post_messenger(body)
        await harness.drain()
        assert await harness.stored_events() == 1
    assert len(senders["messenger"].sent) == 1


@pytest.mark.parametrize("path", payload_names("messenger"))
async def test_fixture_payloads_are_accepted_and_every_stored_event_is_handled(
    settings, senders, path
):
    raw = payload_bytes("messenger", path)
    async with running_app(settings, senders=senders) as harness:
        response = await harness.post_messenger(raw)
        await harness.drain()
        async with harness.app.state.db.transaction() as session:
            rows = (await session.execute(select(WebhookEvent))).scalars().all()
    assert response.status_code == 200
    assert all(row.processed_at is not None and row.error is None for row in rows)
    # Echoes and receipts need no handling; the docs' field/value sample is not a page
    # delivery (no entry list; its sender is a user_ref with no id to answer).
    nothing_to_handle = path in {"message_echo.json", "message_reads.json",
                                 "message_deliveries.json", "doc_postback_field_value_shape.json"}
    assert (len(rows) == 0) == nothing_to_handle


@pytest.mark.parametrize("vector", vector_params("messenger"))
async def test_signature_vectors_are_accepted_or_rejected_as_labelled(
    settings, senders, vector: SignatureVector
):
    settings = settings.model_copy(update={"messenger_app_secret": vector.secret})
    async with running_app(settings, senders=senders) as harness:
        response = await harness.client.post("/webhooks/messenger", content=vector.body,
                                             headers={vector.header: vector.signature})
    assert (response.status_code != 401) == vector.valid
