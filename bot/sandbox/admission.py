"""The gate every fake endpoint passes first: switched-on faults, then the rate limit."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from bot.sandbox.errors import PlatformError
from bot.sandbox.limits import EndpointKind
from bot.sandbox.state import SandboxState


@dataclass(frozen=True, slots=True)
class Refusals:
    """How one platform says "too many requests" and "server error"."""

    too_many: Callable[[], PlatformError]
    server_error: Callable[[], PlatformError]


def admit(state: SandboxState, endpoint: EndpointKind, refusals: Refusals) -> float:
    """Raise the platform's refusal for a fault or an exceeded rate limit; otherwise the
    seconds to hold the answer back (a "timeout" fault), usually 0."""
    fault = state.take_fault(endpoint)
    if fault is not None and fault.effect == "429":
        raise refusals.too_many()
    if fault is not None and fault.effect == "500":
        raise refusals.server_error()
    if not state.take_rate_token(endpoint):
        raise refusals.too_many()
    if fault is not None and fault.effect == "timeout":
        return fault.delay_seconds or state.config.fault_timeout_seconds
    return 0.0


async def answer_late(delay_seconds: float) -> None:
    """The request was processed; only its answer is late (the client times out)."""
    if delay_seconds > 0:
        await asyncio.sleep(delay_seconds)
