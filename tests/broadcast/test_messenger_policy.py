"""The Messenger 24-hour window: a plain send inside it, ACCOUNT_UPDATE outside it."""

from datetime import UTC, datetime, timedelta

from broadcast.messenger_policy import ACCOUNT_UPDATE_TAG, account_update_tag

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_messenger_needs_the_tag_from_the_24th_hour_after_the_last_message() -> None:
    tags = [account_update_tag("messenger", NOW - age, NOW)
            for age in (timedelta(hours=23, minutes=59), timedelta(hours=24))]
    assert tags == [None, ACCOUNT_UPDATE_TAG]


def test_messenger_needs_the_tag_when_the_person_never_wrote() -> None:
    assert account_update_tag("messenger", None, NOW) == ACCOUNT_UPDATE_TAG


def test_line_has_no_window() -> None:
    assert account_update_tag("line", None, NOW) is None
