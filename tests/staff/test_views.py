"""The member panel and history as the page shows them: the store's time zone, short
times for a glance, undo only for those who may void."""

from datetime import UTC, datetime

from handlers.staff.views import member_view, recent_view
from loyalty.balances import RewardView
from loyalty.counter import RecentAction
from loyalty.member_card import MemberCard

NOW = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)  # 14:00 in Taipei


def card(last_visit_at: datetime | None, *, name: str | None = "Lin") -> MemberCard:
    reward = RewardView(id=9, name="免費飲料", expires_at=datetime(2026, 12, 31, 17, tzinfo=UTC))
    return MemberCard(member_id=1, display_name=name, stamps=3, stamps_required=3,
                      reward_name="免費飲料", rewards_available=[reward], tier=None,
                      last_visit_at=last_visit_at)


def test_times_are_shown_in_the_stores_time_zone_as_short_as_they_can_be() -> None:
    today = datetime(2026, 11, 2, 1, 30, tzinfo=UTC)
    this_year = datetime(2026, 3, 1, 16, 30, tzinfo=UTC)  # 00:30 on 2 March in Taipei
    last_year = datetime(2025, 12, 31, 15, 0, tzinfo=UTC)
    labels = [member_view(card(moment), locale="zh-TW", timezone="Asia/Taipei", now=NOW)
              ["last_visit"] for moment in (today, this_year, last_year, None)]
    assert labels == [
        "上次來店：09:30", "上次來店：03/02 00:30", "上次來店：2025/12/31", "第一次來店"]


def test_the_member_panel_names_rewards_with_their_expiry() -> None:
    view = member_view(card(None, name=None), locale="en", timezone="Asia/Taipei", now=NOW)
    assert view["name"] == "Member"
    assert view["tier"] == "Member"
    assert view["progress"] == "3 / 3 stamps"
    assert view["rewards"] == [{"id": 9, "name": "免費飲料", "expires": "expires 2027/01/01"}]


def test_only_those_who_may_void_get_undo_and_never_twice() -> None:
    actions = [
        RecentAction(entry_id=2, kind="reward_redeemed", display_name="Lin", stamps=0,
                     created_at=NOW, voided=False),
        RecentAction(entry_id=1, kind="stamp", display_name="Chen", stamps=1,
                     created_at=NOW, voided=True),
    ]
    manager = recent_view(actions, locale="zh-TW", may_void=True, timezone="Asia/Taipei", now=NOW)
    barista = recent_view(actions, locale="zh-TW", may_void=False, timezone="Asia/Taipei",
                          now=NOW)
    assert [line["label"] for line in manager] == ["14:00　兌換獎勵　Lin", "14:00　集點 +1　Chen"]
    assert [line["voidable"] for line in manager] == [True, False]
    assert [line["voidable"] for line in barista] == [False, False]
    assert [line["voided"] for line in barista] == [False, True]
