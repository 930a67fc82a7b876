"""Whose address the login limits count: the connecting one, unless FORWARDED_ALLOW_IPS
names the proxy it connects through. Served by a real uvicorn as `punchline serve` runs
it (cli.proxy_options), on a free loopback port."""

import httpx
import pytest
from fastapi import Request

from app import create_app
from cli import proxy_options
from core.settings import Settings
from tests.browser import free_port, serving

FORGED = {"X-Forwarded-For": "203.0.113.7"}


async def address_seen(settings: Settings, headers: dict[str, str]) -> str:
    """The address the staff login limits would count for one request."""
    app = create_app(settings)

    @app.get("/test/address-seen")
    async def seen(request: Request) -> dict[str, str]:
        # What the staff page and the POS API count their limits by.
        assert request.client is not None
        return {"address": request.client.host}

    async with (
        serving(app, free_port(), **proxy_options(settings)) as base,
        httpx.AsyncClient(base_url=base) as client,
    ):
        response = await client.get("/test/address-seen", headers=headers)
    return response.json()["address"]


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_a_forged_forwarded_for_does_not_change_the_address_counted(
    settings: Settings,
) -> None:
    assert settings.forwarded_allow_ips == ""
    assert await address_seen(settings, FORGED) == "127.0.0.1"


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_a_configured_proxy_names_the_client_address(settings: Settings) -> None:
    behind_proxy = settings.model_copy(update={"forwarded_allow_ips": "127.0.0.1"})
    assert await address_seen(behind_proxy, FORGED) == "203.0.113.7"
    assert await address_seen(behind_proxy, {}) == "127.0.0.1"


def test_only_the_configured_proxies_are_trusted() -> None:
    assert proxy_options(Settings(environment="test")) == {
        "proxy_headers": False, "forwarded_allow_ips": None}
    configured = Settings(environment="test", forwarded_allow_ips=" 10.0.0.5,10.0.1.0/24 ")
    assert proxy_options(configured) == {
        "proxy_headers": True, "forwarded_allow_ips": "10.0.0.5,10.0.1.0/24"}
