import copy
from datetime import UTC, datetime

import pytest
from linebot.v3.webhooks import (
    Event,
    FollowEvent,
    MessageEvent,
    PostbackEvent,
    TextMessageContent,
    UnfollowEvent,
)

from bot.line.parser import parse_events
from tests.platform_fixtures import payload_json

FIXTURES = [
    "v3_webhook.json",
    "legacy_webhook.json",
    "v3_webhook_with_things_pre_31c9139.json",
    "nodejs_middleware_body.json",
]
USER = "U206d25c2ea6bd87c17655609a1c37cb8"
SDK_KINDS = {
    MessageEvent: "message",
    FollowEvent: "follow",
    UnfollowEvent: "unfollow",
    PostbackEvent: "postback",
}


@pytest.mark.parametrize("name", FIXTURES)
def test_every_fixture_event_parses(name: str) -> None:
    body = payload_json("line", name)
    events = parse_events(body)
    assert len(events) == len(body["events"])
    assert all(event.platform == "line" and event.occurred_at.tzinfo is UTC for event in events)


@pytest.mark.parametrize("name", FIXTURES)
def test_keys_are_unique_within_a_body_and_stable_across_parses(name: str) -> None:
    body = payload_json("line", name)
    first = [event.event_key for event in parse_events(body)]
    second = [event.event_key for event in parse_events(copy.deepcopy(body))]
    assert len(set(first)) == len(first)
    assert first == second


def test_kinds_agree_with_the_sdk_models_wherever_the_sdk_can_parse() -> None:
    body = payload_json("line", "v3_webhook.json")
    compared = 0
    for raw, event in zip(body["events"], parse_events(body), strict=True):
        try:
            sdk_event = Event.from_dict(raw)
        except ValueError:  # the SDK refuses unknown types; we turn them into "other"
            assert event.kind == "other"
            continue
        assert event.kind == SDK_KINDS.get(type(sdk_event), "other"), raw["type"]
        if isinstance(sdk_event, MessageEvent):
            is_text = isinstance(sdk_event.message, TextMessageContent)
            assert event.text == (sdk_event.message.text if is_text else None)
            assert event.source_type == f"message:{sdk_event.message.type}"
        if isinstance(sdk_event, PostbackEvent):
            assert event.payload == sdk_event.postback.data
        compared += 1
    assert compared == 27


def test_text_message_from_a_user() -> None:
    event = parse_events(payload_json("line", "v3_webhook.json"))[0]
    assert event.kind == "message"
    assert event.text == "Hello, world"
    assert event.user_id == USER
    assert event.chat_type == "user"
    assert event.reply_token == "nHuyWiB7yP5Zw52FIkcQobQuGDXCTA"
    assert event.source_type == "message:text"
    assert event.occurred_at == datetime(2016, 5, 7, 13, 57, 59, 859000, tzinfo=UTC)
    assert not event.standby and not event.redelivery


def test_text_message_without_quote_token_is_still_a_text_message() -> None:
    # line-bot-sdk 3.27 turns this legacy shape into an UnknownEvent (docs/platforms.md).
    event = parse_events(payload_json("line", "legacy_webhook.json"))[0]
    assert "quoteToken" not in event.raw["message"]
    assert (event.kind, event.text, event.user_id) == ("message", "Hello, world", USER)


def test_image_message_has_no_text() -> None:
    event = parse_events(payload_json("line", "v3_webhook.json"))[1]
    assert (event.kind, event.text, event.source_type) == ("message", None, "message:image")
    assert event.chat_type == "room"


def test_follow_and_unfollow() -> None:
    events = parse_events(payload_json("line", "v3_webhook.json"))
    follow, unfollow = events[6], events[7]
    assert (follow.kind, follow.payload, follow.user_id) == ("follow", None, USER)
    assert follow.source_type == "follow"
    assert (unfollow.kind, unfollow.user_id) == ("unfollow", USER)


def test_postback_carries_its_data_as_payload() -> None:
    event = parse_events(payload_json("line", "v3_webhook.json"))[10]
    assert event.kind == "postback"
    assert event.payload == "action=buyItem&itemId=123123&color=red"
    assert event.user_id == USER


def test_group_sources() -> None:
    events = parse_events(payload_json("line", "v3_webhook.json"))
    join, group_text = events[8], events[14]
    assert (join.kind, join.chat_type, join.user_id, join.source_type) == (
        "other",
        "group",
        None,
        "join",
    )
    assert (group_text.kind, group_text.chat_type, group_text.user_id) == (
        "message",
        "group",
        USER,
    )


def test_node_sdk_body_with_emoji_and_group_without_user() -> None:
    (event,) = parse_events(payload_json("line", "nodejs_middleware_body.json"))
    assert event.text == "this is test message.😄😅😢😞😄😅😢😞"
    assert (event.chat_type, event.user_id) == ("group", None)
    assert event.event_key == "test_webhook_event_id"
    assert event.occurred_at == datetime(1970, 1, 1, tzinfo=UTC)


def test_edited_message_is_not_a_new_message() -> None:
    event = parse_events(payload_json("line", "v3_webhook.json"))[26]
    assert (event.kind, event.source_type, event.text) == ("other", "messageEdited", None)


def test_retired_and_unknown_types_are_other() -> None:
    events = parse_events(payload_json("line", "v3_webhook_with_things_pre_31c9139.json"))
    things = [event for event in events if event.raw["type"] == "things"]
    assert len(things) == 3
    assert all(event.kind == "other" and event.source_type == "things" for event in things)
    undefined = events[-1]
    assert (undefined.kind, undefined.source_type) == ("other", "undefined")
    assert undefined.redelivery is True


def test_shared_webhook_event_ids_are_suffixed_with_their_position() -> None:
    events = parse_events(payload_json("line", "v3_webhook.json"))
    assert [event.event_key for event in events] == [
        f"testwebhookeventid#{index}" for index in range(28)
    ]


def test_unique_webhook_event_id_is_the_key_as_is() -> None:
    body = {"destination": "U1", "events": [_event("01HZX"), _event("01HZY")]}
    assert [event.event_key for event in parse_events(body)] == ["01HZX", "01HZY"]


def test_redelivered_event_keeps_its_key_and_is_marked() -> None:
    first = _event("01HZX")
    redelivered = {**_event("01HZX"), "deliveryContext": {"isRedelivery": True}}
    (original,) = parse_events({"events": [first]})
    again, _ = parse_events({"events": [redelivered, _event("01HZZ")]})
    assert again.event_key == original.event_key
    assert again.redelivery and not original.redelivery


def test_event_without_webhook_event_id_is_keyed_by_its_content() -> None:
    legacy = _event(None)
    (event,) = parse_events({"events": [legacy]})
    (reordered,) = parse_events({"events": [dict(reversed(list(legacy.items())))]})
    assert len(event.event_key) == 64
    assert event.event_key == reordered.event_key
    (other,) = parse_events({"events": [{**legacy, "timestamp": 1}]})
    assert other.event_key != event.event_key


def test_standby_mode_is_flagged() -> None:
    (event,) = parse_events({"events": [{**_event("01HZX"), "mode": "standby"}]})
    assert event.standby is True


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"events": None},
        {"events": "nope"},
        {"destination": "U1", "events": []},
        [],
    ],
)
def test_bodies_without_events_give_nothing(body: object) -> None:
    assert parse_events(body) == []  # type: ignore[arg-type]  # any JSON, not just objects


@pytest.mark.parametrize(
    "odd_event",
    [
        {},
        {"type": 5, "source": "me", "timestamp": "yesterday"},
        {"type": "message", "message": None, "timestamp": 10**30},
        {"type": "message", "message": {"type": "text", "text": 12}},
        {"type": "postback", "postback": "data", "source": {"type": "galaxy"}},
        {"type": "follow", "deliveryContext": [], "timestamp": float("nan")},
    ],
)
def test_odd_shapes_never_raise(odd_event: dict) -> None:
    (event,) = parse_events({"events": [odd_event, "not an event"]})
    assert event.chat_type == "user"
    assert event.payload is None and event.text is None
    assert event.occurred_at.tzinfo is not None


def _event(webhook_event_id: str | None) -> dict:
    event = {
        "type": "message",
        "mode": "active",
        "timestamp": 1700000000000,
        "source": {"type": "user", "userId": "U1"},
        "replyToken": "r1",
        "deliveryContext": {"isRedelivery": False},
        "message": {"id": "1", "type": "text", "text": "card", "quoteToken": "q"},
    }
    if webhook_event_id:
        event["webhookEventId"] = webhook_event_id
    return event
