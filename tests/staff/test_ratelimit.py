"""The in-memory rate limiter shared by staff logins, typed codes and POS lookups."""

import pytest

from handlers.ratelimit import RateLimiter, TooManyAttempts


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_allows_up_to_the_limit_then_refuses() -> None:
    limiter = RateLimiter(limit=3, window_seconds=60, clock=FakeClock())
    assert [limiter.hit("amy") for _ in range(5)] == [True, True, True, False, False]


def test_keys_are_counted_apart() -> None:
    limiter = RateLimiter(limit=1, window_seconds=60, clock=FakeClock())
    assert limiter.hit("amy")
    assert limiter.hit("bob")
    assert not limiter.hit("amy")


def test_the_window_slides_instead_of_resetting_at_its_edge() -> None:
    clock = FakeClock()
    clock.now = 0.0
    limiter = RateLimiter(limit=4, window_seconds=60, clock=clock)
    assert all(limiter.hit("amy") for _ in range(4))
    clock.now = 61.0  # just into the next window: the old hits still nearly all count
    assert [limiter.hit("amy") for _ in range(2)] == [True, False]
    clock.now = 105.0  # three quarters into it: a quarter of the old hits still count
    assert [limiter.hit("amy") for _ in range(3)] == [True, True, False]


def test_a_burst_is_never_split_by_a_window_edge() -> None:
    clock = FakeClock()
    clock.now = 59.9  # an absolute clock's window would end in 0.1 s
    limiter = RateLimiter(limit=3, window_seconds=60, clock=clock)
    results = []
    for _ in range(4):
        results.append(limiter.hit("amy"))
        clock.now += 0.1
    assert results == [True, True, True, False]


def test_attempts_are_allowed_again_once_a_whole_window_has_passed() -> None:
    clock = FakeClock()
    limiter = RateLimiter(limit=2, window_seconds=60, clock=clock)
    assert limiter.hit("amy") and limiter.hit("amy")
    clock.now += 121
    assert limiter.hit("amy") and limiter.hit("amy")


def test_refused_attempts_do_not_extend_the_lockout() -> None:
    clock = FakeClock()
    clock.now = 0.0
    limiter = RateLimiter(limit=2, window_seconds=60, clock=clock)
    limiter.hit("amy")
    limiter.hit("amy")
    for _ in range(50):
        assert not limiter.hit("amy")
    clock.now = 120.0
    assert limiter.hit("amy")


def test_memory_stays_bounded_whatever_the_number_of_keys() -> None:
    limiter = RateLimiter(limit=5, window_seconds=60, clock=FakeClock(), max_keys=100)
    for n in range(10_000):
        limiter.hit(f"address-{n}")
    assert len(limiter) == 100


def test_the_least_recently_hit_key_is_forgotten_first() -> None:
    limiter = RateLimiter(limit=1, window_seconds=60, clock=FakeClock(), max_keys=2)
    limiter.hit("amy")
    limiter.hit("bob")
    limiter.hit("amy")  # refused, but amy is now the most recent key
    limiter.hit("cy")  # bob is forgotten
    assert not limiter.hit("amy")
    assert limiter.hit("bob")


def test_nonsense_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        RateLimiter(limit=0, window_seconds=60)
    with pytest.raises(ValueError):
        RateLimiter(limit=1, window_seconds=0)


def test_too_many_attempts_is_a_429_in_the_callers_language() -> None:
    refusal = TooManyAttempts("en")
    assert (refusal.status_code, refusal.code) == (429, "too_many_attempts")
    assert refusal.message.startswith("Too many attempts")
    assert TooManyAttempts().message == "嘗試次數過多，請稍後再試"
