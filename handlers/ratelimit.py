"""In-memory rate limits against guessing: staff logins, typed short codes, POS lookups.

A sliding-window counter (the previous fixed window's count, weighted by how much of it
still overlaps the sliding window, plus the current window's count) keeps two numbers
per key instead of a timestamp per attempt, and the number of keys is capped, so memory
stays bounded whatever an attacker sends. Limits are per process: with several web
workers each enforces its own, which still bounds guessing to workers × limit.
"""

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from core.errors import AppError
from core.i18n import t

DEFAULT_MAX_KEYS = 10_000


class TooManyAttempts(AppError):
    """Refused by a rate limit; the caller may try again later."""

    status_code = 429
    code = "too_many_attempts"

    def __init__(self, locale: str = "zh-TW") -> None:
        super().__init__(t("ratelimit.too_many_attempts", locale))


@dataclass(slots=True)
class _Counts:
    # Each key's windows start at its first hit, so a burst is never split by an edge.
    origin: float
    window: int = 0  # index of the current fixed window since `origin`
    current: int = 0
    previous: int = 0

    def roll_to(self, window: int) -> None:
        if window != self.window:
            self.previous = self.current if window == self.window + 1 else 0
            self.current = 0
            self.window = window


class RateLimiter:
    """At most about `limit` hits per key in any `window_seconds`."""

    def __init__(
        self,
        *,
        limit: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = DEFAULT_MAX_KEYS,
    ) -> None:
        if limit < 1 or window_seconds <= 0 or max_keys < 1:
            raise ValueError("limit, window_seconds and max_keys must be positive")
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        self._max_keys = max_keys
        self._counts: OrderedDict[str, _Counts] = OrderedDict()

    def hit(self, key: str) -> bool:
        """Count one attempt for `key`; False (and not counted) when over the limit."""
        now = self._clock()
        counts = self._counts_of(key, now)
        window, elapsed = divmod(now - counts.origin, self.window_seconds)
        counts.roll_to(int(window))
        overlap = 1.0 - elapsed / self.window_seconds
        if counts.previous * overlap + counts.current >= self.limit:
            return False
        counts.current += 1
        return True

    def _counts_of(self, key: str, now: float) -> _Counts:
        counts = self._counts.get(key)
        if counts is not None:
            self._counts.move_to_end(key)
            return counts
        counts = _Counts(origin=now)
        self._counts[key] = counts
        if len(self._counts) > self._max_keys:
            # The least recently hit key goes first; its window has most likely passed.
            self._counts.popitem(last=False)
        return counts

    def __len__(self) -> int:
        """How many keys are being tracked."""
        return len(self._counts)
