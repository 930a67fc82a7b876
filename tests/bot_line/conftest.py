from collections.abc import AsyncIterator

import pytest

from bot.line.management import LineManagement
from bot.sandbox import SandboxConfig, SandboxState
from tests.bot_line.sandbox_server import LineSandbox, line_sandbox
from tests.bot_sandbox.conftest import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def sandbox(clock: FakeClock) -> AsyncIterator[LineSandbox]:
    async with line_sandbox(SandboxState(SandboxConfig(random_seed=7), clock=clock)) as served:
        yield served


@pytest.fixture
async def line(sandbox: LineSandbox) -> AsyncIterator[LineManagement]:
    async with sandbox.management() as opened:
        yield opened
