"""The POS API's guessing limit: typed short codes, counted per key and per address."""

from dataclasses import dataclass, field

from handlers.ratelimit import RateLimiter, TooManyAttempts

# Typed short codes are the guessable way in: at most this many lookups per minute for
# one key and for one client address.
SHORT_CODE_LIMIT_PER_MINUTE = 60


def _per_minute() -> RateLimiter:
    return RateLimiter(limit=SHORT_CODE_LIMIT_PER_MINUTE, window_seconds=60)


@dataclass(slots=True)
class PosLimits:
    """One per app (made at start-up), so apps in one process never share counts."""

    per_key: RateLimiter = field(default_factory=_per_minute)
    per_address: RateLimiter = field(default_factory=_per_minute)

    def check_short_code(self, *, key_id: int, address: str, locale: str) -> None:
        if not (self.per_key.hit(f"key:{key_id}") and self.per_address.hit(f"address:{address}")):
            raise TooManyAttempts(locale)
