"""The staff login throttle: failures slow a guesser, never the real person."""

from loyalty.login_throttle import (
    FORGET_AFTER_SECONDS,
    FREE_FAILURES_PER_ACCOUNT,
    FREE_FAILURES_PER_ADDRESS,
    MAX_WAIT_SECONDS,
    LoginThrottle,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fail(throttle: LoginThrottle, username: str = "amy", address: str = "10.0.0.66") -> int:
    """One attempt with a wrong password: 0 if it was allowed to check, else the wait."""
    return throttle.attempt(username=username, address=address)


def test_successes_never_count() -> None:
    throttle = LoginThrottle(clock=FakeClock())
    for _ in range(200):
        assert throttle.attempt(username="amy", address="10.0.0.1") == 0
        throttle.succeeded(username="amy", address="10.0.0.1")


def test_repeated_failures_from_one_address_wait_longer_and_longer() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(clock=clock)
    assert [fail(throttle) for _ in range(FREE_FAILURES_PER_ACCOUNT)] == [0, 0, 0]
    waits = []
    for _ in range(12):
        wait = fail(throttle)
        waits.append(wait)
        clock.now += wait  # waits it out, then fails again
        assert fail(throttle) == 0
    assert waits[:5] == [1, 2, 4, 8, 16]
    assert waits == sorted(waits) and waits[-1] == MAX_WAIT_SECONDS


def test_a_refused_attempt_does_not_make_the_wait_longer() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(clock=clock)
    for _ in range(FREE_FAILURES_PER_ACCOUNT):
        fail(throttle)
    assert [fail(throttle) for _ in range(20)] == [1] * 20
    clock.now += 1
    assert fail(throttle) == 0


def test_twenty_failures_from_an_attacker_do_not_stop_the_real_user_elsewhere() -> None:
    throttle = LoginThrottle(clock=FakeClock())
    for _ in range(20):
        fail(throttle, "amy", "203.0.113.9")
    assert throttle.attempt(username="amy", address="10.0.0.1") == 0
    throttle.succeeded(username="amy", address="10.0.0.1")
    assert fail(throttle, "amy", "203.0.113.9") > 0  # the attacker still waits


def test_the_real_user_signs_in_after_a_few_typos_of_their_own() -> None:
    throttle = LoginThrottle(clock=FakeClock())
    for _ in range(FREE_FAILURES_PER_ACCOUNT - 1):
        fail(throttle, "amy", "10.0.0.1")
    assert throttle.attempt(username="amy", address="10.0.0.1") == 0
    throttle.succeeded(username="amy", address="10.0.0.1")
    assert [fail(throttle, "amy", "10.0.0.1") for _ in range(3)] == [0, 0, 0]


def test_one_address_guessing_many_usernames_is_slowed_too() -> None:
    throttle = LoginThrottle(clock=FakeClock())
    for n in range(FREE_FAILURES_PER_ADDRESS):
        assert fail(throttle, f"user{n}") == 0
    assert fail(throttle, "someone-new") == 1
    assert throttle.attempt(username="someone-new", address="10.0.0.2") == 0


def test_simultaneous_attempts_count_before_their_passwords_are_checked() -> None:
    throttle = LoginThrottle(clock=FakeClock())
    started = [throttle.attempt(username="amy", address="10.0.0.66") for _ in range(10)]
    assert started[:FREE_FAILURES_PER_ACCOUNT] == [0, 0, 0]
    assert all(wait > 0 for wait in started[FREE_FAILURES_PER_ACCOUNT:])


def test_failures_are_forgotten_once_none_followed_for_a_while() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(clock=clock)
    for _ in range(FREE_FAILURES_PER_ACCOUNT):
        fail(throttle)
    assert fail(throttle) > 0
    clock.now += FORGET_AFTER_SECONDS + 1
    assert [fail(throttle) for _ in range(3)] == [0, 0, 0]


def test_memory_stays_bounded_whatever_the_number_of_usernames_and_addresses() -> None:
    throttle = LoginThrottle(clock=FakeClock(), max_keys=100)
    for n in range(5_000):
        fail(throttle, f"user{n}", f"10.{n // 256 % 256}.{n % 256}.1")
    assert len(throttle) <= 200
