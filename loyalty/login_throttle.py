"""How fast staff may guess passwords: the staff page asks before checking a password.

Only failures count. Each (username, address) pair gets a few free failures, then a wait
that doubles with every further failure (capped), so a guesser is slowed to a crawl
while the real person, from their own address, signs in as usual: a username alone
never locks anyone out. One address gets a looser allowance across all usernames
(a shop's staff may share one), past which its waits grow the same way. A failure is
forgotten once none has followed it for FORGET_AFTER_SECONDS; a success clears its pair.

An attempt counts as a failure from the moment it is allowed until it succeeds, so a
burst of simultaneous guesses cannot slip in before the first one's failure is known.
State is in memory and per process, bounded in size whatever an attacker sends.
"""

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

FREE_FAILURES_PER_ACCOUNT = 3
FREE_FAILURES_PER_ADDRESS = 30
FIRST_WAIT_SECONDS = 1.0
MAX_WAIT_SECONDS = 15 * 60.0
FORGET_AFTER_SECONDS = 15 * 60.0
MAX_TRACKED = 10_000


@dataclass(slots=True)
class _Failures:
    count: int
    last: float

    def wait(self, now: float, free: int) -> float:
        """Seconds until the next attempt is allowed (0: now)."""
        if self.count < free:
            return 0.0
        doublings = min(self.count - free, 32)  # far past the cap already
        delay = min(FIRST_WAIT_SECONDS * 2.0**doublings, MAX_WAIT_SECONDS)
        return max(self.last + delay - now, 0.0)


class _FailureLog:
    """Recent failures per key, the least recently failed forgotten first when full."""

    def __init__(self, clock: Callable[[], float], max_keys: int) -> None:
        self._clock = clock
        self._max_keys = max_keys
        self._failures: OrderedDict[str, _Failures] = OrderedDict()

    def get(self, key: str) -> _Failures | None:
        failures = self._failures.get(key)
        if failures is not None and self._clock() - failures.last > FORGET_AFTER_SECONDS:
            del self._failures[key]
            return None
        return failures

    def add(self, key: str) -> None:
        failures = self.get(key) or _Failures(count=0, last=0.0)
        failures.count += 1
        failures.last = self._clock()
        self._failures[key] = failures
        self._failures.move_to_end(key)
        if len(self._failures) > self._max_keys:
            self._failures.popitem(last=False)

    def remove_one(self, key: str) -> None:
        failures = self.get(key)
        if failures is not None:
            failures.count = max(failures.count - 1, 0)

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)

    def __len__(self) -> int:
        return len(self._failures)


class LoginThrottle:
    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, max_keys: int = MAX_TRACKED
    ) -> None:
        self._clock = clock
        self._pairs = _FailureLog(clock, max_keys)
        self._addresses = _FailureLog(clock, max_keys)

    def attempt(self, *, username: str, address: str) -> int:
        """0 when this attempt may check its password (and it counts as a failure until
        `succeeded`), else the whole seconds to wait, without counting anything."""
        pair, now = _pair(username, address), self._clock()
        waits = [
            failures.wait(now, free)
            for failures, free in (
                (self._pairs.get(pair), FREE_FAILURES_PER_ACCOUNT),
                (self._addresses.get(address), FREE_FAILURES_PER_ADDRESS),
            )
            if failures is not None
        ]
        wait = max(waits, default=0.0)
        if wait > 0:
            return max(math.ceil(wait), 1)
        self._pairs.add(pair)
        self._addresses.add(address)
        return 0

    def succeeded(self, *, username: str, address: str) -> None:
        """The password was right: this attempt and the pair's earlier failures are
        forgiven (the address keeps its other failures)."""
        self._pairs.clear(_pair(username, address))
        self._addresses.remove_one(address)

    def __len__(self) -> int:
        """How many usernames and addresses are tracked."""
        return len(self._pairs) + len(self._addresses)


def _pair(username: str, address: str) -> str:
    return f"{username.strip().lower()}\n{address}"
