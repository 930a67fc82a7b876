import asyncio
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
from httpx_aiohttp import AiohttpTransport

from bot.http import make_http_client
from bot.line.sender import LineSender
from bot.types import Text


@pytest.fixture
async def tiny_server() -> AsyncIterator[str]:
    """A real local HTTP/1.1 server answering every request with `{"value": 1}`."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            0,
        )
        await reader.readexactly(length)
        body = b'{"value": 1}'
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.close()
    await server.wait_closed()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_client_uses_the_aiohttp_transport_and_short_timeouts() -> None:
    client = make_http_client()
    assert isinstance(client._transport, AiohttpTransport)
    assert client.timeout == httpx.Timeout(connect=5.0, read=10.0, write=10.0, pool=5.0)


async def test_client_talks_to_a_real_server(tiny_server: str) -> None:
    async with make_http_client() as client:
        response = await client.post(f"{tiny_server}/v2/bot/message/quota", json={"a": 1})
    assert response.status_code == 200
    assert response.json() == {"value": 1}


async def test_sender_reports_a_refused_connection_as_retryable(tiny_server: str) -> None:
    api = f"http://127.0.0.1:{_closed_port()}"
    async with make_http_client() as client:
        sender = LineSender(client, api_base=api, access_token="t")
        result = await sender.push("U1", [Text("hi")])
        reachable = LineSender(client, api_base=tiny_server, access_token="t")
        pushed = await reachable.push("U1", [Text("hi")])
    assert (result.ok, result.status, result.retryable) == (False, 0, True)
    assert pushed.ok and pushed.detail == {"value": 1}
