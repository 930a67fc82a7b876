"""Token buckets that hold each fake endpoint to its platform's documented rate limit."""

from dataclasses import dataclass
from typing import Literal

# The endpoint classes the sandbox limits and can fault. LINE: one per send endpoint plus
# the audience endpoints plus everything else; Messenger: the Send API and everything else
# (profile, user profile).
EndpointKind = Literal[
    "reply",
    "push",
    "multicast",
    "narrowcast",
    "broadcast",
    "line_audience",
    "line_other",
    "send",
    "graph_other",
]


@dataclass(frozen=True, slots=True)
class RateLimit:
    """`requests` allowed per `per_seconds`, refilled smoothly (a token bucket)."""

    requests: int
    per_seconds: float

    @property
    def refill_per_second(self) -> float:
        return self.requests / self.per_seconds


def default_rate_limits() -> dict[EndpointKind, RateLimit]:
    """The per-channel limits in docs/platforms.md (LINE's table, Messenger's 300/s per Page)."""
    return {
        "reply": RateLimit(2000, 1),
        "push": RateLimit(2000, 1),
        "multicast": RateLimit(200, 1),
        "narrowcast": RateLimit(60, 3600),
        "broadcast": RateLimit(60, 3600),
        "line_audience": RateLimit(60, 60),
        "line_other": RateLimit(2000, 1),
        "send": RateLimit(300, 1),
        "graph_other": RateLimit(300, 1),
    }


class TokenBucket:
    """Starts full (a burst of `requests` is allowed), refills continuously."""

    def __init__(self, limit: RateLimit, now: float) -> None:
        self.limit = limit
        self._tokens = float(limit.requests)
        self._updated = now

    def take(self, now: float) -> bool:
        elapsed = max(0.0, now - self._updated)
        self._updated = now
        capacity = float(self.limit.requests)
        self._tokens = min(capacity, self._tokens + elapsed * self.limit.refill_per_second)
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True
