"""Faults a test or benchmark switches on to see how the senders cope."""

import random
from dataclasses import dataclass
from typing import Literal

from bot.sandbox.limits import EndpointKind

# "429": a rate-limit answer; "500": a server error; "timeout": the request is accepted
# and recorded, but the answer comes only after a delay beyond the client's timeout, the
# case where a retry must not deliver twice (LINE's retry key, 409).
FaultEffect = Literal["429", "500", "timeout"]


@dataclass(slots=True)
class Fault:
    """Hits the next `remaining` calls to `endpoint`, or each call with probability
    `fraction`, or (neither given) every call until cleared."""

    endpoint: EndpointKind
    effect: FaultEffect
    remaining: int | None = None
    fraction: float | None = None
    delay_seconds: float | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "endpoint": self.endpoint,
            "effect": self.effect,
            "remaining": self.remaining,
            "fraction": self.fraction,
            "delay_seconds": self.delay_seconds,
        }


class FaultSwitch:
    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self._faults.append(fault)

    def clear(self, endpoint: EndpointKind | None = None) -> None:
        self._faults = [f for f in self._faults if endpoint is not None and f.endpoint != endpoint]

    def active(self) -> list[Fault]:
        return list(self._faults)

    def take(self, endpoint: EndpointKind) -> Fault | None:
        """The fault that hits this call, if any (consuming one of its `remaining`)."""
        for fault in self._faults:
            if fault.endpoint != endpoint:
                continue
            if fault.fraction is not None and self._rng.random() >= fault.fraction:
                continue
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
            return fault
        return None
