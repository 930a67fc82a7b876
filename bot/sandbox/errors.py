"""Refusals in each platform's own error shape, raised anywhere in a fake endpoint."""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute


class PlatformError(Exception):
    """An answer the fake platform gives instead of success (status, body, headers)."""

    def __init__(
        self, status_code: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{status_code} {body}")
        self.status_code = status_code
        self.body = body
        self.headers = headers or {}


def line_error(
    status_code: int, message: str, details: list[dict[str, str]] | None = None, **extra: Any
) -> PlatformError:
    """LINE's shape: {message, details: [{message, property}]}."""
    body: dict[str, Any] = {"message": message}
    if details:
        body["details"] = details
    body.update(extra)
    return PlatformError(status_code, body)


def line_invalid_property(property_name: str, message: str) -> PlatformError:
    return line_error(
        400,
        "The request body has 1 error(s)",
        [{"message": message, "property": property_name}],
    )


def graph_error(
    status_code: int,
    code: int,
    message: str,
    *,
    subcode: int | None = None,
    error_type: str = "OAuthException",
) -> PlatformError:
    """The Graph API's shape: {error: {message, type, code, error_subcode?, fbtrace_id}}."""
    error: dict[str, Any] = {"message": message, "type": error_type, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = "sandbox"
    return PlatformError(status_code, {"error": error})


class PlatformRoute(APIRoute):
    """Renders a PlatformError raised by the endpoint or its dependencies, so the routers
    keep the platform's shape wherever they are mounted, without an app-wide handler."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except PlatformError as refusal:
                return JSONResponse(
                    refusal.body, status_code=refusal.status_code, headers=refusal.headers
                )

        return handle
