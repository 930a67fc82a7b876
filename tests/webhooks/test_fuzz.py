"""Correctly signed but mutated and random webhook bodies, through the real receivers and
the processor: never a 5xx, and afterwards every member whole and every stored event
either processed or recorded as failed."""

import asyncio
import copy
import json
from typing import Any

from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.sender import CollectingSender
from cards.models import Member, MemberIdentity
from handlers.inbox_models import WebhookEvent
from tests.events import (
    line_body,
    line_event,
    line_postback,
    line_text,
    messenger_body,
    messenger_postback,
    messenger_text,
)
from tests.harness import Harness, running_app

EXAMPLES = 120
# A few people and event ids, so mutated bodies collide: the same person twice, one id
# on two different events, a follow after a message.
USERS = ["U-fuzz-1", "U-fuzz-2", "P-fuzz-1"]


def _seeds() -> list[tuple[str, dict[str, Any]]]:
    """Well-formed bodies of each kind the bot handles, to mutate."""
    line = [line_event("follow", USERS[0]), line_event("unfollow", USERS[0]),
            line_text(USERS[0], "card"), line_text(USERS[1], "stamps"),
            line_postback(USERS[1], "card")]
    messenger = [messenger_text(USERS[2], "card"), messenger_text(USERS[2], "hi", "card"),
                 messenger_postback(USERS[2], "GET_STARTED", ref="AMY12345")]
    return ([("line", line_body(event)) for event in line]
            + [("messenger", messenger_body(item)) for item in messenger])


SEEDS = _seeds()

hostile_scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.sampled_from([2**63, -(2**63) - 1, 10**30, 0, -1]),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["", "x" * 5000, "\u2029\u0085\n\r", "\x00", "🎉" * 50, "\ud800",
                     USERS[0], "unknown_event", "message", "follow", "postback"]),
)
hostile_values = st.recursive(
    hostile_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=8,
)


def _containers(value: Any, path: tuple = ()) -> list[tuple]:
    """The path of every object and array inside `value`."""
    found = [path] if isinstance(value, dict | list) else []
    children = value.items() if isinstance(value, dict) else enumerate(value) \
        if isinstance(value, list) else []
    for key, child in children:
        found += _containers(child, (*path, key))
    return found


def _at(value: Any, path: tuple) -> Any:
    for key in path:
        value = value[key]
    return value


@st.composite
def mutated_bodies(draw: st.DrawFn) -> tuple[str, Any]:
    platform, seed = draw(st.sampled_from(SEEDS))
    body = copy.deepcopy(seed)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        container = _at(body, draw(st.sampled_from(_containers(body))))
        keys = list(container) if isinstance(container, dict) else list(range(len(container)))
        if not keys:
            continue
        key = draw(st.sampled_from(keys))
        action = draw(st.sampled_from(["drop", "replace", "replace", "duplicate"]))
        if action == "drop":
            del container[key]
        elif action == "replace":
            container[key] = draw(hostile_values)
        elif isinstance(container, list):
            container.append(copy.deepcopy(container[key]))
        else:
            container[draw(st.text(max_size=8))] = copy.deepcopy(container[key])
    return platform, body


random_bodies = st.tuples(st.sampled_from(["line", "messenger"]), hostile_values)


async def _post(harness: Harness, platform: str, body: Any) -> int:
    raw = json.dumps(body).encode()
    post = harness.post_line if platform == "line" else harness.post_messenger
    return (await post(raw)).status_code


async def _members_are_whole(harness: Harness) -> None:
    async with harness.app.state.db.transaction() as session:
        members = (await session.scalars(select(Member))).all()
        identities = (await session.scalars(select(MemberIdentity))).all()
        unhandled = await session.scalar(select(func.count()).select_from(WebhookEvent)
                                         .where(WebhookEvent.processed_at.is_(None)))
    member_ids = {member.id for member in members}
    with_identity = {identity.member_id for identity in identities}
    assert member_ids == with_identity, "a member without an identity, or the reverse"
    for identity in identities:
        assert identity.platform in ("line", "messenger")
        assert isinstance(identity.platform_user_id, str) and identity.platform_user_id
    for member in members:
        assert member.card_key and member.referral_code
    assert unhandled == 0, "a stored event neither processed nor recorded as failed"


async def test_signed_hostile_bodies_never_break_the_receivers_or_the_members(settings):
    async with running_app(settings, senders={
        "line": CollectingSender("line"), "messenger": CollectingSender("messenger"),
    }) as harness:
        loop = asyncio.get_running_loop()
        statuses: list[int] = []

        @examples(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(st.one_of(mutated_bodies(), random_bodies))
        def post_one(platform_and_body: tuple[str, Any]) -> None:
            platform, body = platform_and_body
            # Hypothesis runs in a worker thread; the app runs on the test's loop.
            status = asyncio.run_coroutine_threadsafe(_post(harness, platform, body),
                                                      loop).result()
            statuses.append(status)
            assert status < 500, (status, body)

        await asyncio.to_thread(post_one)
        await harness.drain()
        await _members_are_whole(harness)
    assert 200 in statuses and 400 in statuses
