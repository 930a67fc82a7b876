"""The state's wait helper, which tests and benchmarks use to await the bot's answers."""

import asyncio

import pytest

from bot.sandbox import SandboxConfig, SandboxState


def _deliver(state: SandboxState, user_id: str) -> None:
    state.record_sent(
        platform="line",
        endpoint="push",
        user_ids=[user_id],
        messages=[{"type": "text", "text": "hi"}],
        request_id="r",
    )


async def test_waiting_returns_once_enough_messages_arrive() -> None:
    state = SandboxState()
    loop = asyncio.get_running_loop()
    loop.call_later(0.02, _deliver, state, "Ua")
    loop.call_later(0.04, _deliver, state, "Ua")
    received = await state.wait_for_messages("line", "Ua", 2, timeout=2)
    assert len(received) == 2


async def test_waiting_too_long_raises_naming_how_many_arrived() -> None:
    state = SandboxState()
    _deliver(state, "Ua")
    with pytest.raises(TimeoutError, match="1 of 2"):
        await state.wait_for_messages("line", "Ua", 2, timeout=0.1)


async def test_waiting_sees_a_narrowcast_complete_by_time_alone() -> None:
    state = SandboxState(SandboxConfig(narrowcast_phase_seconds=0.02, narrowcast_min_recipients=1))
    state.start_narrowcast(["Ua"], [{"type": "text", "text": "sale"}], retry_key=None)
    received = await state.wait_for_messages("line", "Ua", 1, timeout=2)
    assert received[0].endpoint == "narrowcast"


async def test_concurrent_consumers_of_one_reply_token_get_it_once() -> None:
    state = SandboxState()
    token = state.issue_reply_token("Ua")

    async def spend() -> str | None:
        await asyncio.sleep(0)
        return state.consume_reply_token(token)

    results = await asyncio.gather(*(spend() for _ in range(20)))
    assert results.count("Ua") == 1
