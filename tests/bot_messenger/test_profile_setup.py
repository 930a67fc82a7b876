import pytest

from bot.messenger.parser import GET_STARTED_PAYLOAD
from bot.messenger.profile_setup import MessengerProfileRejected, setup_messenger_profile
from tests.bot_messenger.fake_graph import API_BASE, PAGE_TOKEN, FakeGraph

MENU = [("會員卡", "CARD"), ("點數與獎勵", "REWARDS"), ("邀請朋友", "INVITE")]


async def test_it_sets_get_started_and_the_persistent_menu() -> None:
    graph = FakeGraph()
    async with graph.client() as client:
        await setup_messenger_profile(
            client, api_base=API_BASE, page_access_token=PAGE_TOKEN, menu=MENU
        )
    assert graph.messenger_profiles == [
        {
            "get_started": {"payload": GET_STARTED_PAYLOAD},
            "persistent_menu": [
                {
                    "locale": "default",
                    "composer_input_disabled": False,
                    "call_to_actions": [
                        {"type": "postback", "title": "會員卡", "payload": "CARD"},
                        {"type": "postback", "title": "點數與獎勵", "payload": "REWARDS"},
                        {"type": "postback", "title": "邀請朋友", "payload": "INVITE"},
                    ],
                }
            ],
        }
    ]


async def test_it_sets_the_greeting_per_locale_when_given() -> None:
    graph = FakeGraph()
    greeting = {"default": "歡迎 {{user_first_name}}！", "en_US": "Welcome, {{user_first_name}}!"}
    async with graph.client() as client:
        await setup_messenger_profile(
            client, api_base=API_BASE, page_access_token=PAGE_TOKEN, menu=MENU, greeting=greeting
        )
    assert graph.messenger_profiles[0]["greeting"] == [
        {"locale": "default", "text": "歡迎 {{user_first_name}}！"},
        {"locale": "en_US", "text": "Welcome, {{user_first_name}}!"},
    ]


async def test_a_graph_refusal_raises_with_graphs_message() -> None:
    graph = FakeGraph()
    graph.profile_answer = (
        400,
        {"error": {"message": '(#100) Invalid keys "colour"', "code": 100}},
    )
    async with graph.client() as client:
        with pytest.raises(MessengerProfileRejected) as refused:
            await setup_messenger_profile(
                client, api_base=API_BASE, page_access_token=PAGE_TOKEN, menu=MENU
            )
    assert refused.value.code == "messenger_profile_rejected"
    assert "(#100) Invalid keys" in refused.value.message


async def test_a_wrong_token_raises() -> None:
    graph = FakeGraph()
    async with graph.client() as client:
        with pytest.raises(MessengerProfileRejected, match="Invalid OAuth access token"):
            await setup_messenger_profile(
                client, api_base=API_BASE, page_access_token="stale", menu=MENU
            )
    assert graph.messenger_profiles == []
