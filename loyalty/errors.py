"""Refusals of the loyalty services, each with a stable code; the text comes from the
catalog (key "loyalty.error.<code>") in the locale the caller passed."""

from datetime import datetime, timedelta
from typing import Any

from core.errors import AppError
from core.i18n import t


class LoyaltyError(AppError):
    code = "loyalty_error"
    status_code = 400

    def __init__(self, locale: str = "zh-TW", **params: Any) -> None:
        super().__init__(t(f"loyalty.error.{self.code}", locale, **params))


class TokenUsed(LoyaltyError):
    """The QR token already awarded a visit."""

    code = "token_used"
    status_code = 409


class Cooldown(LoyaltyError):
    """The member got a stamp at this store less than the cooldown ago."""

    code = "cooldown"
    status_code = 409

    def __init__(
        self, locale: str = "zh-TW", *, last_stamp_at: datetime, now: datetime, retry_at: datetime
    ) -> None:
        super().__init__(locale, ago=_duration(now - last_stamp_at, locale))
        self.last_stamp_at = last_stamp_at
        self.retry_at = retry_at


class NoReward(LoyaltyError):
    """No such reward for this member (or it was withdrawn)."""

    code = "no_reward"
    status_code = 404


class AlreadyRedeemed(LoyaltyError):
    code = "already_redeemed"
    status_code = 409


class RewardExpired(LoyaltyError):
    code = "reward_expired"
    status_code = 409


class RewardAlreadyRedeemed(LoyaltyError):
    """A void would take back a reward the member has already redeemed."""

    code = "reward_already_redeemed"
    status_code = 409


class StampsAlreadyUsed(LoyaltyError):
    """A void would take back stamps already spent on a redeemed reward or expired."""

    code = "stamps_already_used"
    status_code = 409


class AlreadyVoided(LoyaltyError):
    code = "already_voided"
    status_code = 409


class NotVoidable(LoyaltyError):
    """Voids and expiries are not voided (adjust the stamps instead)."""

    code = "not_voidable"
    status_code = 422


class Forbidden(LoyaltyError):
    code = "forbidden"
    status_code = 403


class NotFound(LoyaltyError):
    code = "not_found"
    status_code = 404


class IdempotencyMismatch(LoyaltyError):
    """The Idempotency-Key was first used with a different request."""

    code = "idempotency_mismatch"
    status_code = 422


class InvalidProgram(LoyaltyError):
    code = "invalid_program"
    status_code = 422


class InvalidAmount(LoyaltyError):
    """A visit's amount below zero or past loyalty.visits.MAX_VISIT_AMOUNT."""

    code = "invalid_amount"
    status_code = 422


class InvalidAdjustment(LoyaltyError):
    code = "invalid_adjustment"
    status_code = 422


class InvalidSegment(LoyaltyError):
    """A segment definition (loyalty.segments) that does not fit its format."""

    code = "invalid_segment"
    status_code = 422


class InvalidSegmentName(LoyaltyError):
    code = "invalid_segment_name"
    status_code = 422


class SegmentNameTaken(LoyaltyError):
    code = "segment_name_taken"
    status_code = 409


class UsernameTaken(LoyaltyError):
    code = "username_taken"
    status_code = 409


def _duration(elapsed: timedelta, locale: str) -> str:
    minutes = max(1, int(elapsed.total_seconds() // 60))
    if minutes < 60:
        return t("loyalty.duration.minutes", locale, n=minutes)
    return t("loyalty.duration.hours", locale, n=minutes // 60)
