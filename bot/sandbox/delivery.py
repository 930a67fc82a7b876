"""How the simulator hands a signed webhook to Punchline."""

from collections.abc import Awaitable, Callable

import httpx

# deliver(platform, body, headers) -> the receiver's HTTP status (0: not reached).
Deliver = Callable[[str, bytes, dict[str, str]], Awaitable[int]]


def http_deliverer(webhooks_base: str, *, timeout_seconds: float = 10.0) -> Deliver:
    """Posts to `{webhooks_base}/webhooks/{platform}` over HTTP, as the platforms do."""

    async def deliver(platform: str, body: bytes, headers: dict[str, str]) -> int:
        url = f"{webhooks_base.rstrip('/')}/webhooks/{platform}"
        try:
            async with httpx.AsyncClient(timeout=timeout_seconds) as client:
                response = await client.post(url, content=body, headers=headers)
        except httpx.HTTPError:
            return 0
        return response.status_code

    return deliver
