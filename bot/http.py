"""The outbound HTTP client the platform senders share.

httpx's API over aiohttp's connection pool: on these machines httpx's own transport fell
to about 200 requests/s at concurrency 32, the aiohttp transport gave about 1,400
(docs/platforms.md). One long-lived client per platform, closed in the app's lifespan.
"""

import httpx
from httpx_aiohttp import AiohttpTransport

CONNECT_TIMEOUT_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 10.0
MAX_CONNECTIONS = 100
KEEPALIVE_EXPIRY_SECONDS = 30.0


def make_http_client(*, max_connections: int = MAX_CONNECTIONS) -> httpx.AsyncClient:
    """An AsyncClient on aiohttp's transport with short connect and read timeouts.

    Safe to call outside an event loop: the transport opens its aiohttp session on the
    first request.
    """
    limits = httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=KEEPALIVE_EXPIRY_SECONDS,
    )
    timeout = httpx.Timeout(
        connect=CONNECT_TIMEOUT_SECONDS,
        read=READ_TIMEOUT_SECONDS,
        write=READ_TIMEOUT_SECONDS,
        pool=CONNECT_TIMEOUT_SECONDS,
    )
    return httpx.AsyncClient(transport=AiohttpTransport(limits=limits), timeout=timeout)
