"""LINE's management calls through line-bot-sdk (bot/line/management.py), against the
sandbox platforms served on loopback: what the SDK sends is what the sandbox accepts, and
what LINE refuses becomes a LineApiError, never an SDK exception."""

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from bot.http import make_http_client
from bot.line.management import LineApiError, LineManagement, Quota
from bot.line.sender import LineSender
from bot.sandbox import Fault
from bot.types import Text
from tests.bot_line.sandbox_server import LINE_TOKEN, LineSandbox
from tests.bot_sandbox.conftest import FakeClock

LINE_DAY = timezone(timedelta(hours=9))


def followers(sandbox: LineSandbox, count: int) -> list[str]:
    return [
        sandbox.state.register_user("line", display_name=f"Friend {n}", following=True).user_id
        for n in range(count)
    ]


async def test_quota_reads_the_monthly_limit_and_this_months_usage(
    sandbox: LineSandbox, line: LineManagement
) -> None:
    assert await line.quota() == Quota(limit=None, used=0)
    sandbox.state.config.monthly_quota = 1000
    sandbox.state.consume_quota(3)
    quota = await line.quota()
    assert quota == Quota(limit=1000, used=3)
    assert quota.remaining == 997


async def test_an_audience_of_25000_ids_is_uploaded_in_three_calls_of_at_most_10000(
    sandbox: LineSandbox, line: LineManagement
) -> None:
    user_ids = [f"U{n:032x}" for n in range(25_000)]
    audience_group_id = await line.create_audience("spring sale", user_ids)
    uploads = [r for r in sandbox.requests if r.path == "/line/v2/bot/audienceGroup/upload"]
    assert [(r.method, len(r.json()["audiences"])) for r in uploads] == [
        ("POST", 10_000),
        ("PUT", 10_000),
        ("PUT", 5_000),
    ]
    assert all(r.json()["audienceGroupId"] == audience_group_id for r in uploads[1:])
    audience = sandbox.state.audience(audience_group_id)
    assert audience is not None and audience.description == "spring sale"
    assert audience.user_ids == set(user_ids)


async def test_a_deleted_audience_is_gone_and_deleting_it_again_is_refused(
    sandbox: LineSandbox, line: LineManagement
) -> None:
    audience_group_id = await line.create_audience("gone", ["U1"])
    await line.delete_audience(audience_group_id)
    assert sandbox.state.audience(audience_group_id) is None
    with pytest.raises(LineApiError) as refused:
        await line.delete_audience(audience_group_id)
    assert refused.value.status == 404
    assert str(refused.value) == (
        f"could not delete audience {audience_group_id}: LINE answered 404 "
        "Audience group not found"
    )


async def test_narrowcast_to_an_audience_moves_through_its_phases_to_succeeded(
    sandbox: LineSandbox, line: LineManagement, clock: FakeClock
) -> None:
    audience_ids = followers(sandbox, 60)
    followers(sandbox, 5)  # friends outside the audience
    audience_group_id = await line.create_audience("regulars", audience_ids)
    async with make_http_client() as client:
        sender = LineSender(
            client, api_base=sandbox.api_base, access_token=LINE_TOKEN,
        )
        accepted = await sender.narrowcast(
            [Text("Spring sale")],
            retry_key=str(uuid.uuid4()),
            recipient={"type": "audience", "audienceGroupId": audience_group_id},
        )
    request_id = accepted.detail["request_id"]

    waiting = await line.narrowcast_progress(request_id)
    clock.advance(sandbox.state.config.narrowcast_phase_seconds)
    sending = await line.narrowcast_progress(request_id)
    clock.advance(sandbox.state.config.narrowcast_phase_seconds)
    done = await line.narrowcast_progress(request_id)

    assert [waiting.phase, sending.phase, done.phase] == ["waiting", "sending", "succeeded"]
    assert waiting.accepted_at.timestamp() == pytest.approx(clock.now - 2, abs=0.001)
    assert (done.target_count, done.success_count, done.failure_count) == (60, 60, 0)
    assert done.completed_at is not None
    reached = {m.user_id for m in sandbox.state.all_messages(platform="line")}
    assert reached == set(audience_ids)


async def test_narrowcast_to_an_audience_under_50_fails_with_error_code_4(
    sandbox: LineSandbox, line: LineManagement
) -> None:
    audience_group_id = await line.create_audience("too few", followers(sandbox, 49))
    async with make_http_client() as client:
        sender = LineSender(
            client, api_base=sandbox.api_base, access_token=LINE_TOKEN,
        )
        accepted = await sender.narrowcast(
            [Text("Spring sale")],
            retry_key=str(uuid.uuid4()),
            recipient={"type": "audience", "audienceGroupId": audience_group_id},
        )
    progress = await line.narrowcast_progress(accepted.detail["request_id"])
    assert (progress.phase, progress.error_code) == ("failed", 4)
    assert sandbox.state.all_messages() == []


async def test_message_deliveries_count_what_the_sandbox_sent_that_day(
    sandbox: LineSandbox, line: LineManagement, clock: FakeClock
) -> None:
    alice, bob, carol = followers(sandbox, 3)
    async with make_http_client() as client:
        sender = LineSender(
            client, api_base=sandbox.api_base, access_token=LINE_TOKEN,
        )
        # Two message objects in one push still count once per recipient.
        assert (await sender.push(alice, [Text("a"), Text("b")])).ok
        assert (await sender.push(bob, [Text("c")])).ok
        assert (await sender.multicast([alice, bob, carol], [Text("d")], retry_key=str(
            uuid.uuid4()))).ok
    today = datetime.fromtimestamp(clock.now, LINE_DAY).date()

    deliveries = await line.message_deliveries(today)
    other_day = await line.message_deliveries(today - timedelta(days=1))

    assert deliveries.ready
    assert (deliveries.push, deliveries.multicast, deliveries.reply) == (2, 3, 0)
    assert (other_day.push, other_day.multicast) == (0, 0)


async def test_follower_counts_match_the_sandboxs_friends(
    sandbox: LineSandbox, line: LineManagement
) -> None:
    friends = followers(sandbox, 4)
    sandbox.state.set_following(friends[0], False)  # blocked
    sandbox.state.register_user("line", display_name="Never added", following=False)
    counts = await line.followers()
    assert (counts.ready, counts.followers, counts.targeted_reaches, counts.blocks) == (
        True, 4, 3, 1)


async def test_unit_statistics_are_read_for_a_date_range(
    sandbox: LineSandbox, line: LineManagement, clock: FakeClock
) -> None:
    today = datetime.fromtimestamp(clock.now, LINE_DAY).date()
    stats = await line.unit_statistics("spring_sale", today - timedelta(days=7), today)
    assert stats.unique_impressions is None and stats.unique_clicks is None
    (seen,) = [r for r in sandbox.requests if "aggregation" in r.path]
    assert seen.query == (
        f"customAggregationUnit=spring_sale&from={today - timedelta(days=7):%Y%m%d}"
        f"&to={today:%Y%m%d}"
    )


async def test_a_wrong_access_token_is_a_line_api_error_with_lines_message(
    sandbox: LineSandbox,
) -> None:
    async with sandbox.management(access_token="wrong") as line:
        with pytest.raises(LineApiError) as refused:
            await line.quota()
        with pytest.raises(LineApiError, match="create the audience: LINE answered 401"):
            await line.create_audience("x", ["U1"])
    assert type(refused.value) is LineApiError
    assert refused.value.status == 401
    assert refused.value.step == "read the message quota"
    assert "Authentication failed" in refused.value.message
    assert refused.value.__cause__ is None and refused.value.__suppress_context__


async def test_a_server_error_is_a_line_api_error(
    sandbox: LineSandbox, line: LineManagement
) -> None:
    sandbox.state.add_fault(Fault("line_audience", "500", remaining=1))
    with pytest.raises(LineApiError, match="create the audience: LINE answered 500"):
        await line.create_audience("x", ["U1"])


async def test_lines_invalid_property_details_are_kept(
    sandbox: LineSandbox, line: LineManagement
) -> None:
    with pytest.raises(LineApiError) as refused:
        await line.create_audience("", ["U1"])
    assert refused.value.status == 400
    assert refused.value.message == (
        "The request body has 1 error(s) (description: Length must be between 1 and 120)"
    )


async def test_an_unreachable_line_is_a_line_api_error_with_status_0() -> None:
    from tests.browser import free_port

    closed = f"http://127.0.0.1:{free_port()}"
    async with LineManagement(api_base=closed, data_api_base=closed, access_token="t") as line:
        with pytest.raises(LineApiError, match="read the narrowcast progress") as refused:
            await line.narrowcast_progress("req-1")
    assert refused.value.status == 0
    assert "ClientConnectorError" in refused.value.message
