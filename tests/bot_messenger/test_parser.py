import copy
from datetime import UTC, datetime

import pytest

from bot.messenger.parser import GET_STARTED_PAYLOAD, parse_events
from bot.types import InboundEvent
from tests.platform_fixtures import payload_json, payload_names

PAYLOAD_FILES = payload_names("messenger")
USER = "1412611362105802"


def _only_event(name: str) -> InboundEvent:
    events = parse_events(payload_json("messenger", name))
    assert len(events) == 1
    return events[0]


@pytest.mark.parametrize("name", PAYLOAD_FILES)
def test_every_fixture_parses_to_the_same_keys_twice(name: str) -> None:
    first = parse_events(payload_json("messenger", name))
    second = parse_events(payload_json("messenger", name))
    assert [event.event_key for event in first] == [event.event_key for event in second]
    assert all(event.platform == "messenger" for event in first)
    assert all(event.occurred_at.tzinfo is UTC for event in first)


def test_a_text_with_a_quick_reply_carries_text_and_payload() -> None:
    event = _only_event("message_text_quick_reply.json")
    assert event.kind == "message"
    assert event.text == "hello, world!"
    assert event.payload == "DEVELOPER_DEFINED_PAYLOAD"
    assert event.user_id == USER
    assert event.chat_type == "user"
    assert event.reply_token is None
    assert event.standby is False
    assert event.event_key == "mid.1457764197618:41d102a3e1ae206a38"
    assert event.occurred_at == datetime(2016, 3, 23, 0, 25, 52, 478000, tzinfo=UTC)


def test_a_reply_to_message_is_an_ordinary_message() -> None:
    event = _only_event("message_reply_to.json")
    assert event.kind == "message"
    assert event.text == "hello, world!"
    assert event.payload is None
    assert event.event_key == "m_1457764197618:41d102a3e1ae206a38"
    assert event.raw["message"]["reply_to"]["mid"].startswith("m_1fTq8")


def test_an_image_is_a_message_without_text() -> None:
    event = _only_event("message_image_attachment.json")
    assert event.kind == "message"
    assert event.text is None
    assert event.payload is None
    assert event.event_key == "mid.$cAAJdkrCd2ORnva8ErFhjGm0X_Q_c"
    assert event.raw["message"]["attachments"][0]["type"] == "image"


def test_get_started_through_an_mme_link_is_a_follow_with_the_referral() -> None:
    event = _only_event("postback_get_started_with_referral.json")
    assert event.kind == "follow"
    assert event.referral == "USER-DEFINED-REFERRAL-PARAM"
    assert event.payload == "USER-DEFINED-PAYLOAD"
    assert event.event_key == "m_MESSAGE-ID"
    assert event.occurred_at == datetime(2018, 5, 27, 22, 23, 44, tzinfo=UTC)


def test_an_mme_link_on_an_existing_thread_is_a_referral() -> None:
    event = _only_event("referral_mme_link.json")
    assert event.kind == "referral"
    assert event.referral == "promo_2026"
    assert event.user_id == USER
    assert len(event.event_key) == 64


def test_reads_and_deliveries_need_no_handling() -> None:
    read = _only_event("message_reads.json")
    delivery = _only_event("message_deliveries.json")
    assert (read.kind, read.source_type) == ("other", "read")
    assert (delivery.kind, delivery.source_type) == ("other", "delivery")
    assert read.event_key != delivery.event_key


def test_a_delivery_without_a_timestamp_takes_the_entry_time() -> None:
    delivery = _only_event("message_deliveries.json")
    assert delivery.occurred_at == datetime.fromtimestamp(1458692752.478, tz=UTC)


def test_a_notification_messages_optin_carries_its_token() -> None:
    event = _only_event("optin_notification_messages.json")
    assert event.kind == "optin"
    assert event.optin_token == "NOTIFICATION-MESSAGES-TOKEN"
    assert event.payload == "ADDITIONAL-INFORMATION"
    assert event.user_id == USER


def test_stopping_notification_messages_is_not_an_optin() -> None:
    body = payload_json("messenger", "optin_notification_messages.json")
    body["entry"][0]["messaging"][0]["optin"]["notification_messages_status"] = "STOP_NOTIFICATIONS"
    [event] = parse_events(body)
    assert (event.kind, event.source_type) == ("other", "optin_stop")
    assert event.optin_token is None


def test_our_own_echo_is_ignored() -> None:
    event = _only_event("message_echo.json")
    assert (event.kind, event.source_type) == ("other", "echo")
    assert event.text is None


def test_a_plain_text_is_a_message() -> None:
    event = _only_event("message_text.json")
    assert event.kind == "message"
    assert event.text == "card"
    assert event.payload is None
    assert event.user_id == USER
    assert event.event_key == "m_plain-text-0001"


def test_the_webhook_field_sample_is_not_a_page_delivery() -> None:
    assert parse_events(payload_json("messenger", "doc_postback_field_value_shape.json")) == []


def test_a_sample_item_with_a_user_ref_and_a_seconds_timestamp_still_parses() -> None:
    item = payload_json("messenger", "doc_postback_field_value_shape.json")["value"]
    [event] = parse_events({"object": "page", "entry": [{"id": "PAGE-ID", "messaging": [item]}]})
    assert event.kind == "follow"
    assert event.user_id is None
    assert event.occurred_at == datetime(2018, 5, 27, 22, 23, 44, tzinfo=UTC)


def test_our_get_started_payload_is_a_follow_without_referral() -> None:
    body = _postback_body({"mid": "m_1", "title": "Get Started", "payload": GET_STARTED_PAYLOAD})
    [event] = parse_events(body)
    assert event.kind == "follow"
    assert event.referral is None
    assert event.payload == GET_STARTED_PAYLOAD


def test_a_menu_postback_is_a_postback() -> None:
    [event] = parse_events(_postback_body({"mid": "m_2", "title": "Card", "payload": "CARD"}))
    assert (event.kind, event.payload, event.event_key) == ("postback", "CARD", "m_2")


def test_a_postback_without_mid_is_keyed_by_its_content() -> None:
    [first] = parse_events(_postback_body({"title": "Card", "payload": "CARD"}))
    [other] = parse_events(_postback_body({"title": "Card", "payload": "REWARDS"}))
    assert len(first.event_key) == 64
    assert first.event_key != other.event_key


def _postback_body(postback: dict) -> dict:
    item = {
        "sender": {"id": USER},
        "recipient": {"id": "PAGE"},
        "timestamp": 1,
        "postback": postback,
    }
    return {"object": "page", "entry": [{"id": "PAGE", "time": 1, "messaging": [item]}]}


def test_every_entry_and_every_item_of_a_batch_is_parsed() -> None:
    text = payload_json("messenger", "message_text_quick_reply.json")["entry"][0]
    read = payload_json("messenger", "message_reads.json")["entry"][0]
    image = payload_json("messenger", "message_image_attachment.json")["entry"][0]
    referral = payload_json("messenger", "referral_mme_link.json")["entry"][0]
    text["messaging"] += read["messaging"]
    body = {"object": "page", "entry": [text, image, referral]}
    kinds = [(event.kind, event.source_type) for event in parse_events(body)]
    assert kinds == [
        ("message", "message"),
        ("other", "read"),
        ("message", "message"),
        ("referral", "referral"),
    ]


def test_standby_items_are_parsed_as_standby() -> None:
    body = payload_json("messenger", "message_text_quick_reply.json")
    entry = body["entry"][0]
    entry["standby"] = copy.deepcopy(entry["messaging"])
    entry["standby"][0]["message"]["mid"] = "m_standby"
    events = parse_events(body)
    assert [(event.standby, event.event_key) for event in events] == [
        (False, "mid.1457764197618:41d102a3e1ae206a38"),
        (True, "m_standby"),
    ]
    assert events[1].kind == "message"


def test_other_objects_give_no_events() -> None:
    body = payload_json("messenger", "message_text.json")
    body["object"] = "instagram"
    assert parse_events(body) == []
    assert parse_events([]) == []  # type: ignore[arg-type]  # a JSON array, not an object


@pytest.mark.parametrize(
    "body",
    [
        {"object": "page"},
        {"object": "page", "entry": None},
        {"object": "page", "entry": ["nonsense", 3]},
        {"object": "page", "entry": [{"messaging": "nonsense"}]},
        {"object": "page", "entry": [{"messaging": [None, 1]}]},
    ],
)
def test_shapes_without_items_give_no_events(body: dict) -> None:
    assert parse_events(body) == []


@pytest.mark.parametrize(
    ("item", "source_type"),
    [
        ({}, "unknown"),
        ({"sender": {"id": USER}, "reaction": {"reaction": "love"}}, "reaction"),
        ({"sender": "nonsense", "message": "nonsense"}, "message"),
        ({"sender": {"id": 42}, "timestamp": "soon", "postback": None}, "postback"),
        ({"timestamp": 10**30, "referral": []}, "referral"),
        ({"optin": {"type": "one_time_notif_req", "payload": "X"}}, "optin"),
    ],
)
def test_unknown_or_broken_items_never_raise(item: dict, source_type: str) -> None:
    [event] = parse_events({"object": "page", "entry": [{"messaging": [item]}]})
    assert event.source_type == source_type
    assert event.occurred_at.tzinfo is UTC
