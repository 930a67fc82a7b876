"""The sandbox app on an in-process transport, with a clock the tests move."""

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from bot.sandbox import SandboxConfig, SandboxState, create_sandbox_app

LINE_TOKEN = "test-line-access-token"
PAGE_TOKEN = "test-page-access-token"
LINE_AUTH = {"Authorization": f"Bearer {LINE_TOKEN}"}


@dataclass
class FakeClock:
    now: float = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def config() -> SandboxConfig:
    return SandboxConfig(random_seed=7)


@pytest.fixture
def state(config: SandboxConfig, clock: FakeClock) -> SandboxState:
    return SandboxState(config, clock=clock)


@pytest.fixture
async def client(state: SandboxState) -> AsyncIterator[httpx.AsyncClient]:
    app = create_sandbox_app(
        state, line_access_token=LINE_TOKEN, messenger_page_access_token=PAGE_TOKEN
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        yield http


def text(content: str = "hello") -> dict[str, str]:
    return {"type": "text", "text": content}


async def register(
    client: httpx.AsyncClient, platform: str, name: str = "Alex Chen", **fields: object
) -> str:
    response = await client.post(
        "/control/users", json={"platform": platform, "display_name": name, **fields}
    )
    assert response.status_code == 201
    return response.json()["user_id"]
