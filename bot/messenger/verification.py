"""The subscription handshake Meta sends when the webhook URL is registered."""

import hmac
from collections.abc import Mapping


def check_subscription(params: Mapping[str, str], verify_token: str) -> str | None:
    """The `hub.challenge` to echo back when the request is a subscription carrying our
    verify token; None otherwise (the route answers 403)."""
    if not verify_token or params.get("hub.mode") != "subscribe":
        return None
    received = params.get("hub.verify_token", "")
    if not hmac.compare_digest(received.encode(), verify_token.encode()):
        return None
    return params.get("hub.challenge")
